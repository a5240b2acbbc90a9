"""`kim-hub report` and `kim-hub monitoring`: the coordinator's report and the state's aggregate export.

    kim-hub report [--home DIR] [--out F] [--format html|json] [--lang de|en]
    kim-hub monitoring --period 2026-Q4 [--format csv|json] [--threshold 5] [--out F] [--home DIR]

Without ``--out`` the report is published into the home's ``reports/`` (``pipeline.reports``),
as every sync run does; with ``--out`` it is written there only and the published baseline of
"changes since the previous run" is left alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kim_hub.cli.commands import EXIT_OK, CommandGroup, access_of, add_access_options, home_of
from kim_hub.pipeline.private_files import check_target, write_replacing


def register(commands: CommandGroup) -> None:
    report = commands.command(
        "report",
        cmd_report,
        "The coordinator's matching report (HTML with charts, or JSON).",
        "kim-hub report --home /srv/kim-hub",
        "kim-hub report --format json --lang en --out - --home /srv/kim-hub",
        description="The coordinator's matching report: records, persons across sources, overlap, "
        "Rechtskreis changes, open review items, chain gaps, data quality, changes since the last run. "
        "Pseudonyms and counts only.",
    )
    report.add_argument("--out", help="write here ('-' for standard output) instead of publishing into reports/")
    report.add_argument("--format", choices=("html", "json"), default="html")
    report.add_argument("--lang", choices=("de", "en"), default="de", help="language of the labels (default: de)")
    add_access_options(report, "report.write")

    monitoring = commands.command(
        "monitoring",
        cmd_monitoring,
        "Aggregate case counts for a period, small cells suppressed (for the state).",
        "kim-hub monitoring --period 2026-Q4 --out monitoring-2026-Q4.csv --home /srv/kim-hub",
        description="Case counts for a period by status, Rechtskreis, district and sex, plus cases "
        "opened and closed; counts below the threshold are published as <5, and further cells are "
        "withheld (x) so that totals cannot reveal them. Age bands are not reported: the birth year "
        "is not held in clear.",
    )
    monitoring.add_argument("--period", required=True, help="YYYY-Qn, YYYY-MM or YYYY (e.g. 2026-Q4)")
    monitoring.add_argument("--format", choices=("csv", "json"), default="csv")
    monitoring.add_argument("--threshold", type=int, default=None, help="smallest count shown (default 5)")
    monitoring.add_argument("--lang", choices=("de", "en"), default="en", help="language of the row labels (default: en)")
    monitoring.add_argument("--out", help="write to this file instead of standard output")


def cmd_report(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.reports import REPORT_HTML, REPORT_JSON, make_report, report_json, write_reports
    from kim_hub.reporting.html import render_html

    home = home_of(args)
    if not args.out:
        write_reports(home, lang=args.lang, access=access_of(args))
        print(home.reports / (REPORT_HTML if args.format == "html" else REPORT_JSON))
        return EXIT_OK
    if args.out != "-":
        check_target(Path(args.out), "--out")  # refused before the report is made
    report = make_report(home, lang=args.lang, access=access_of(args))
    text = render_html(report, args.lang) if args.format == "html" else report_json(report)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_replacing(Path(args.out), text, "--out")
        print(args.out)
    return EXIT_OK


def cmd_monitoring(args: argparse.Namespace) -> int:
    from kim_hub.pipeline.reports import monitoring_export

    if args.out:
        check_target(Path(args.out), "--out")
    text = monitoring_export(home_of(args), args.period, args.threshold, args.format, args.lang).text
    if args.out:
        write_replacing(Path(args.out), text, "--out")
    else:
        sys.stdout.write(text)
    return EXIT_OK
