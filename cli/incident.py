"""`kim-hub incident --since T [--until T]`: each controller's share of an incident window.

For every controller declared in hub.toml: its regime, supervisor, notification rule and contact,
and the categories and counts of its sources' records the window concerned (held, taken in, read,
changed, erased, sent and received; persons concerned). No identity, no record id, no pseudonym.
Sources without a controller are listed under "controller not declared" (``pipeline.incident``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kim_hub.cli.commands import EXIT_OK, CommandGroup, home_of, moment_of
from kim_hub.core.errors import ConfigError


def register(commands: CommandGroup) -> None:
    incident = commands.command(
        "incident",
        cmd_incident,
        "Tell each controller its share of an incident window: supervisor, notification rule, counts of records touched.",
        "kim-hub incident --since 2026-12-01T08:00 --home /srv/kim-hub",
        "kim-hub incident --since 2026-12-01 --until 2026-12-03 --format json --home /srv/kim-hub",
        description="For an incident window, list every controller declared in hub.toml ([controllers]) with its "
        "regime, supervisory authority, breach-notification rule and contact, and the categories and counts of its "
        "sources' records the window concerned: held, taken in, read, changed, erased, sent and received, and the "
        "persons concerned. Counts only, never an identity. Sources without a declared controller are listed apart. "
        "The report is an entry of the audit log.",
    )
    incident.add_argument(
        "--since", required=True, help="the window's start (ISO date or date and time; UTC unless it names a zone)"
    )
    incident.add_argument("--until", help="the window's end, exclusive (default: now)")
    incident.add_argument("--format", choices=("text", "json"), default="text")


def cmd_incident(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.incident import as_json, incident_report

    since = moment_of(args.since, "--since")
    if since is None:  # argparse requires it; for the type checker
        raise ConfigError("--since is required")
    report = incident_report(home_of(args), since, moment_of(args.until, "--until"))
    if args.format == "json":
        print(json.dumps(as_json(report), indent=1, ensure_ascii=False))
        return EXIT_OK
    for line in _text(as_json(report)):
        print(line)
    return EXIT_OK


def _text(report: dict[str, Any]) -> list[str]:
    platform = ", ".join(f"{action} {count}" for action, count in report["whole_platform"].items())
    lines = [
        f"incident window {report['since']} to {report['until']}",
        f"audit log entries in the window: {report['entries']}; about the whole platform (every controller): "
        f"{sum(report['whole_platform'].values())}" + (f" ({platform})" if platform else ""),
    ]
    affected = [share for share in report["controllers"] if share["affected"]]
    untouched = [share["controller"] for share in report["controllers"] if not share["affected"]]
    if not report["controllers"]:
        lines += ["", "no controller is declared in hub.toml: see docs/operations.md, 'Controllers and incidents'"]
    for share in affected:
        activity = "activity in the window" if share["active"] else "no activity of its own in the window; holds records"
        lines += [
            "",
            f"{share['controller']} - {share['name']}   [{activity}]",
            f"  regime             {share['regime']['name']}: {share['regime']['law']}",
            f"  supervisor         {share['supervisor']['name']}",
            f"  notification       {share['notification']}",
            f"  contact            {share['contact'] or 'not declared in hub.toml'}",
            f"  sources            {', '.join(share['sources']) or 'none'}",
            *_count_lines(share),
        ]
    if untouched:
        lines += ["", f"not affected (hold no records, no activity in the window): {', '.join(untouched)}"]
    if report["controller_not_declared"]:
        lines += ["", "controller not declared (declare one per source: docs/operations.md, 'Controllers and incidents'):"]
        for source in report["controller_not_declared"]:
            lines += [f"  source {source['source']}", *("  " + line for line in _count_lines(source))]
    return lines


def _count_lines(counts: dict[str, Any]) -> list[str]:
    held = counts["records_held"]
    held_text = (
        f"at most {held['count']} ({held['now']} now, {held['erased_since']} erased since)"
        if held["at_most"]
        else str(held["count"])
    )
    transfers = counts["transfers"]
    categories = ", ".join(sorted({*transfers["categories_sent"], *transfers["categories_received"]})) or "-"
    persons = counts["persons_concerned"]
    return [
        f"  records held       {held_text}",
        f"  taken in           {counts['taken_in']['files']} files, {counts['taken_in']['records']} records",
        f"  read               {counts['read']['records']} records, {counts['read']['persons']} persons",
        f"  changed            {counts['changed']['records']} records",
        f"  erased             {counts['erased']['records']} records, {counts['erased']['delivered_files']} delivered files",
        f"  transfers          {transfers['sent']} records sent, {transfers['received']} received; categories: {categories}",
        f"  persons concerned  {'at least ' if persons['at_least'] else ''}{persons['count']}",
    ]
