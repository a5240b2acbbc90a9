"""`kim-hub gaps | transitions | audit`: chain gaps and Rechtskreiswechsel by district, and the audit trail.

The rules are pure functions in ``exchange``, applied to every person by ``pipeline.worklists``;
this module prints their findings, pseudonyms and bodies only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from kim_hub.cli.commands import EXIT_OK, CommandGroup, home_of


def register(commands: CommandGroup) -> None:
    gaps = commands.command(
        "gaps",
        cmd_gaps,
        "Chain gaps by district: recognised, newly in SGB II or a closed case, and no active case anywhere.",
        "kim-hub gaps --home /srv/kim-hub",
        "kim-hub gaps --format json --home /srv/kim-hub",
    )
    gaps.add_argument("--format", choices=("text", "json"), default="text")
    changes = commands.command(
        "transitions",
        cmd_transitions,
        "Rechtskreiswechsel by district: reported changes of residence status or legal framework.",
        "kim-hub transitions --home /srv/kim-hub",
    )
    changes.add_argument("--format", choices=("text", "json"), default="text")
    audit = commands.command(
        "audit",
        cmd_audit,
        "Show the audit trail: transfers, withdrawal notices, review decisions, erasures, purges, link events.",
        "kim-hub audit --kind transfer --limit 20 --home /srv/kim-hub",
    )
    audit.add_argument("--kind", help="only this kind (transfer, withdrawal_notice, review_decision, erasure, purge, link)")
    audit.add_argument("--limit", type=int, default=50)


def cmd_gaps(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.worklists import chain_gaps

    _print_by_district(
        args,
        chain_gaps(home_of(args)),
        "gaps",
        lambda g: f"{g.pseudonym}  {g.trigger:12} since {g.since}  known to: {', '.join(g.bodies)}",
    )
    return EXIT_OK


def cmd_transitions(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.worklists import rechtskreis_transitions

    _print_by_district(
        args,
        rechtskreis_transitions(home_of(args)),
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


def cmd_audit(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.worklists import audit_trail

    for when, kind, detail in audit_trail(home_of(args), args.kind, args.limit):
        print(f"{when:%Y-%m-%d %H:%M:%S}  {kind:18} {json.dumps(detail, ensure_ascii=False)}")
    return EXIT_OK
