"""`kim-hub gaps | transitions`: chain gaps and Rechtskreiswechsel by district.

The rules are pure functions in ``exchange``, applied to every person by ``pipeline.worklists``;
this module prints their findings, pseudonyms and bodies only. Each listing is a read in the
audit log, with ``--purpose`` and ``--case-ref``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from kim_hub.cli.commands import EXIT_OK, CommandGroup, access_of, add_access_options, home_of


def register(commands: CommandGroup) -> None:
    gaps = commands.command(
        "gaps",
        cmd_gaps,
        "Chain gaps by district: recognised, newly in SGB II or a closed case, and no active case anywhere.",
        "kim-hub gaps --home /srv/kim-hub",
        "kim-hub gaps --format json --home /srv/kim-hub",
    )
    gaps.add_argument("--format", choices=("text", "json"), default="text")
    add_access_options(gaps, "gaps.list")
    changes = commands.command(
        "transitions",
        cmd_transitions,
        "Rechtskreiswechsel by district: reported changes of residence status or legal framework.",
        "kim-hub transitions --home /srv/kim-hub",
    )
    changes.add_argument("--format", choices=("text", "json"), default="text")
    add_access_options(changes, "transitions.list")


def cmd_gaps(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.worklists import chain_gaps

    _print_by_district(
        args,
        chain_gaps(home_of(args), access=access_of(args)),
        "gaps",
        lambda g: f"{g.pseudonym}  {g.trigger:12} since {g.since}  known to: {', '.join(g.bodies)}",
    )
    return EXIT_OK


def cmd_transitions(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.worklists import rechtskreis_transitions

    _print_by_district(
        args,
        rechtskreis_transitions(home_of(args), access_of(args)),
        "changes",
        lambda t: f"{t.pseudonym}  {t.on}  {t.kind:15} {t.before} → {t.after}  known to: {', '.join(t.bodies)}",
    )
    return EXIT_OK


def _print_by_district(args: argparse.Namespace, found: Sequence[Any], noun: str, line: Callable[[Any], str]) -> None:
    """Findings as JSON (dates ISO), or as text grouped under their district with a total."""
    if args.format == "json":
        print(json.dumps([asdict(item) for item in found], indent=1, default=str))
        return
    district = None
    for item in found:
        if item.district != district:
            district = item.district
            print(f"\n{district}")
        print("  " + line(item))
    print(f"\n{len(found)} {noun}")
