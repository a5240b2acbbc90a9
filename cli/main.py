"""The `kim-hub` command line: the parser built from one module per command family, errors as exit codes.

Exit codes: see ``cli.commands`` (0 ok, 1 rows rejected, 2 usage or configuration, 3 refused,
4 part of the run failed, 5 the command failed). A failed command prints one line naming the
kind of error with a hint (``cli.errors``), never a traceback that could quote a value;
``--debug`` (before or after the command) adds a value-free traceback. A reader that stops early
(`kim-hub links | head`) ends the command quietly, as any Unix tool does. Every command runs
under the umask 077 (and so does every process it starts: Prefect's server, `serve`'s flow runs),
so nothing it creates is open to other accounts unless the hub opens it on purpose.
"""

from __future__ import annotations

import argparse
import os
import sys

from kim_hub.cli import audit, data, exchange, incident, index, protection, reports, setup, sync, tokens, web
from kim_hub.cli.commands import DEBUG_HELP, EXIT_OK, EXIT_USAGE, CommandGroup, HelpFormatter, home_of
from kim_hub.cli.errors import report_error
from kim_hub.runtime.file_modes import use_private_umask

FAMILIES = (setup, sync, index, exchange, audit, incident, protection, reports, data, web, tokens)


def build_parser() -> argparse.ArgumentParser:
    """Every command of every family, in the order an operator meets them."""
    parser = argparse.ArgumentParser(
        prog="kim-hub",
        description="Integration hub for KIM NRW: pseudonymised master index across providers, job centre and "
        "foreigners authority. Every command works on one home folder (--home, $KIM_HUB_HOME, or ./kim-home).",
        epilog="example:\n  kim-hub init --home /srv/kim-hub && kim-hub ingest --home /srv/kim-hub",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = CommandGroup.top_level(parser)
    for family in FAMILIES:
        family.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    use_private_umask()  # before anything is created: what the hub makes is its account's (runtime.file_modes)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        if getattr(args, "catch_up", False):
            from kim_hub.pipeline.ledger_state import bring_up_to_ledger

            bring_up_to_ledger(home_of(args))  # erasures since a restored backup, before the command reads anything
        code = int(args.handler(args) or EXIT_OK)
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence: a kind and a hint, never a value
        return report_error(error, debug=getattr(args, "debug", False))


def _silence_stdout() -> None:
    """The reader closed the pipe: point stdout at /dev/null so that the interpreter's last flush
    at exit does not fail again (Python's documented handling of SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
