"""`kim-hub audit [verify | purge]`: the audit log listed by filter, its chains verified, its retention applied.

kim-hub audit [--controller C] [--channel C] [--actor A] [--object O] [--action X] [--since T] [--until T] [--limit N]
              [--format text|json]
kim-hub audit verify     exit 1 and the first broken entry of each broken channel
kim-hub audit purge      entries past their channel's [audit.retention_days] removed (also done by `retention`)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from kim_hub.cli.commands import EXIT_OK, EXIT_REJECTED, CommandGroup, home_of, moment_of
from kim_hub.core.errors import ConfigError

OBJECTS_SHOWN = 3  # object ids per line in text form; --format json shows all


def register(commands: CommandGroup) -> None:
    listing, audit = commands.command_group(
        "audit",
        cmd_audit,
        "The audit log: reads, inputs, changes, transfers and admin actions; list, verify, purge.",
        "kim-hub audit --action review.list --since 2026-12-01 --home /srv/kim-hub",
        "kim-hub audit --object caritas/C-4711 --format json --home /srv/kim-hub",
        "kim-hub audit --controller caritas --since 2026-12-01 --limit 0 --format json --home /srv/kim-hub",
        "kim-hub audit verify --home /srv/kim-hub",
    )
    listing.add_argument(
        "--controller",
        help="only this controller's share (a name under [controllers] in hub.toml): entries about its sources' "
        "records, files and persons, and those about the whole platform (marked)",
    )
    listing.add_argument("--channel", help="only this channel: read, change, input, transfer or admin")
    listing.add_argument("--actor", help="only this actor: kind:name (os:alice), or a name of any kind")
    listing.add_argument(
        "--object",
        action="append",
        default=[],
        help="only entries about this object (repeatable): SOURCE/RECORD_ID, a pseudonym P-…, or an object id as listed",
    )
    listing.add_argument("--action", help="only this action, or family of actions (transfer = transfer.*)")
    listing.add_argument("--since", help="from this time on (ISO date or date and time; UTC unless it names a zone)")
    listing.add_argument("--until", help="before this time (ISO date or date and time)")
    listing.add_argument("--limit", type=int, default=50, help="newest entries shown (0 = all; default 50)")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    audit.command(
        "verify",
        cmd_audit_verify,
        "Recompute every channel's hash chain: exit 1 naming the first changed, deleted or moved entry.",
        "kim-hub audit verify --home /srv/kim-hub",
    )
    audit.command(
        "purge",
        cmd_audit_purge,
        "Remove entries older than their channel's retention period (a sealed checkpoint keeps the chain).",
        "kim-hub audit purge --home /srv/kim-hub",
    )


def cmd_audit(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.audit import AuditFilter, list_entries

    if args.limit < 0:
        raise ConfigError("--limit must be 0 (all) or more")
    wanted = AuditFilter(
        controller=args.controller,
        channel=args.channel,
        actor=args.actor,
        action=args.action,
        objects=tuple(args.object),
        since=moment_of(args.since, "--since"),
        until=moment_of(args.until, "--until"),
    )
    found = list_entries(home_of(args), wanted, args.limit or None)
    marked = args.controller is not None  # a controller's share: say which entries are everyone's
    if args.format == "json":
        print(json.dumps([_as_json(entry, marked) for entry in found], indent=1, ensure_ascii=False))
        return EXIT_OK
    for entry in found:
        print(_as_line(entry, marked))
    return EXIT_OK


def _as_json(entry: Any, marked: bool = False) -> dict[str, Any]:
    from kim_hub.pipeline.audit import whole_platform

    shown = {
        "channel": entry.channel,
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "objects": list(entry.objects),
        "purpose": entry.purpose,
        "case_ref": entry.case_ref,
        "detail": entry.detail,
    }
    if marked:
        shown["whole_platform"] = whole_platform(entry)
    return shown


def _as_line(entry: Any, marked: bool = False) -> str:
    from kim_hub.pipeline.audit import whole_platform

    objects: Sequence[str] = entry.objects
    shown = " ".join(objects[:OBJECTS_SHOWN]) + (f" (+{len(objects) - OBJECTS_SHOWN})" if len(objects) > OBJECTS_SHOWN else "")
    why = f"  purpose: {entry.purpose}" if entry.purpose else ""
    case = f"  case: {entry.case_ref}" if entry.case_ref else ""
    platform = "  [whole platform]" if marked and whole_platform(entry) else ""
    return (
        f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.channel:8} #{entry.seq:<6} {entry.actor:20} {entry.action:26}"
        f"{why}{case}  {shown or '-'}  {json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)}{platform}"
    )


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.audit import verify_log

    report = verify_log(home_of(args))
    for channel in report.channels:
        span = f"#{channel.first} to #{channel.last}" if channel.entries else "none"
        purged = f", #1 to #{channel.purged_upto} purged behind a checkpoint" if channel.purged_upto else ""
        state = "intact" if channel.intact else f"BROKEN at #{channel.broken_at}: {channel.problem}"
        print(f"{channel.channel:8} {channel.entries:>7} entries ({span}{purged})  {state}")
    if report.anchor_problem:
        print(f"anchor: {report.anchor_problem}")
    print("the audit log is intact" if report.intact else "the audit log is NOT intact")
    return EXIT_OK if report.intact else EXIT_REJECTED


def cmd_audit_purge(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.audit import purge_log

    home = home_of(args)
    config = home.load_config()
    purged = purge_log(home, config)
    if not purged:
        print("no channel has a retention period in [audit.retention_days]: nothing to remove")
    for channel, count in purged.items():
        print(f"{channel:8} {count} entries removed (older than {config.audit.retention_days[channel]:g} days)")
    return EXIT_OK
