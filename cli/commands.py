"""The one helper every command family builds its commands with, and what commands share.

A command gets its help text as both summary and description, an example under its help,
``--debug``, and ``--home`` unless it works without a home. A command group (``sources``,
``review``, ``keys``) is a command with subcommands of its own; called alone it prints its own help.

Exit codes (the README documents them): 0 ok, 1 the run finished but rows were rejected (or a
check failed), 2 usage or configuration error, 3 the hub refused to run (an exposed key file or
key folder: open to others, a link, another user's), 4 the run finished but part of it failed (a
file or a source set aside, or linking, push or the report failed; the rest went on), 5 the
command itself failed unexpectedly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

from kim_hub.core.access import READ_PURPOSES, Access
from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.home import HubHome

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_REFUSED, EXIT_PART_FAILED, EXIT_FAILED = 0, 1, 2, 3, 4, 5
HOME_HELP = "the hub's home folder (default: $KIM_HUB_HOME or ./kim-home)"
DEBUG_HELP = "on failure, also show where it failed: a traceback of code locations, never values"

Handler = Callable[[argparse.Namespace], int]


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped as usual; the examples under a command's help kept line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _examples(lines: tuple[str, ...]) -> str:
    return ("example:\n" if len(lines) == 1 else "examples:\n") + "\n".join(f"  {line}" for line in lines)


class CommandGroup:
    """Adds commands to one level of the command line (the top level, or a group's subcommands)."""

    def __init__(self, subparsers: Any) -> None:  # argparse's _SubParsersAction is private
        self._subparsers = subparsers

    @classmethod
    def top_level(cls, parser: argparse.ArgumentParser) -> CommandGroup:
        return cls(parser.add_subparsers(title="commands", metavar="COMMAND"))

    def command(
        self,
        name: str,
        handler: Handler,
        help_text: str,
        *examples: str,
        home: bool = True,
        description: str | None = None,
        catch_up: bool = True,
    ) -> argparse.ArgumentParser:
        """A command running ``handler``; ``examples`` are shown under its help (at least one).
        ``description`` (default: the help text) is the longer text of the command's own help.
        A command with a home first brings the home's database up to its erasure ledger
        (``cli.main``), unless ``catch_up`` is False: a command that does it itself at the right
        moment (init, restore) or must run without it (erasures)."""
        if not examples:
            raise ValueError(f"command {name!r} needs an example for its help")
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name,
            help=help_text,
            description=description or help_text,
            epilog=_examples(examples),
            formatter_class=HelpFormatter,
        )
        _common_options(parser, home)
        parser.set_defaults(handler=handler, catch_up=home and catch_up)
        return parser

    def group(self, name: str, help_text: str, *examples: str) -> CommandGroup:
        """A command family with subcommands of its own (``kim-hub sources add …``)."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=help_text, description=help_text, epilog=_examples(examples), formatter_class=HelpFormatter
        )
        parser.set_defaults(handler=lambda _args: _print_help(parser))
        return CommandGroup(parser.add_subparsers(title=f"{name} commands", metavar="SUBCOMMAND"))

    def command_group(
        self, name: str, handler: Handler, help_text: str, *examples: str
    ) -> tuple[argparse.ArgumentParser, CommandGroup]:
        """A command that runs ``handler`` on its own and has subcommands too (``kim-hub audit``
        lists, ``kim-hub audit verify`` verifies): its parser, for its own options, and its group."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=help_text, description=help_text, epilog=_examples(examples), formatter_class=HelpFormatter
        )
        _common_options(parser, home=True)
        parser.set_defaults(handler=handler, catch_up=True)
        return parser, CommandGroup(parser.add_subparsers(title=f"{name} commands", metavar="SUBCOMMAND"))


def _common_options(parser: argparse.ArgumentParser, home: bool) -> None:
    """``--home`` and ``--debug``. Neither has a default of its own: one not given leaves the value
    of an enclosing command alone (``kim-hub --debug ingest``, ``kim-hub audit --home H verify``);
    ``home_of`` supplies the default."""
    if home:
        parser.add_argument("--home", default=argparse.SUPPRESS, help=HOME_HELP)
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)


def add_access_options(parser: argparse.ArgumentParser, action: str) -> None:
    """``--purpose`` and ``--case-ref`` of a command that shows person-level data: both go into
    the audit log's entry of the read, ``action`` (``pipeline.audit``)."""
    parser.add_argument(
        "--purpose",
        help=f"why the data is read, for the audit log (default: {READ_PURPOSES[action]!r}; "
        "required when [audit] require_purpose is set); name the task, never a person",
    )
    parser.add_argument("--case-ref", help="the case (Aktenzeichen) the data is read for, for the audit log")


def access_of(args: argparse.Namespace) -> Access:
    """The purpose and case reference given on the command line (checked: ConfigError)."""
    return Access(getattr(args, "purpose", None), getattr(args, "case_ref", None))


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def home_of(args: argparse.Namespace) -> HubHome:
    """--home beats $KIM_HUB_HOME beats ./kim-home."""
    return HubHome.resolve(getattr(args, "home", None))


def moment_of(text: str | None, option: str) -> dt.datetime | None:
    """An ISO date or date and time as given to ``option`` (--since, --until) as an aware time
    (UTC unless it names a zone); None for None."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} must be an ISO date (2026-12-01) or date and time (2026-12-01T08:00)") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
