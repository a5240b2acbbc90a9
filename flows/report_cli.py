"""`kim-hub report` and `kim-hub monitoring`: glue between a home, the report queries and reporting/.

    kim-hub report [--home DIR] [--out F] [--format html|json] [--lang de|en]
    kim-hub monitoring --period 2026-Q4 [--format csv|json] [--threshold 5] [--out F] [--home DIR]

Without ``--out`` the report is published into the home's ``reports/``: ``report.json`` and
``report.html``, the previous JSON kept as ``report-previous.json`` — the baseline of the next
report's "changes since the previous run". Every sync run does the same (``write_reports``).
With ``--out`` the report is written there only and the published baseline is left alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from kim_hub.connectors.errors import ConfigError
from kim_hub.flows.home import HubHome

REPORT_JSON, REPORT_HTML, PREVIOUS_JSON = "report.json", "report.html", "report-previous.json"


def add_commands(commands: Any) -> None:
    """Add `report` and `monitoring` to the `kim-hub` command parser's subparsers."""
    report = commands.add_parser(
        "report",
        help="The coordinator's matching report (HTML with charts, or JSON).",
        description="The coordinator's matching report: records, persons across sources, overlap, "
        "Rechtskreis changes, open review items, chain gaps, data quality, changes since the last run. "
        "Pseudonyms and counts only.",
    )
    report.add_argument("--home", help="the hub's home folder (default: $KIM_HUB_HOME or ./kim-home)")
    report.add_argument("--out", help="write here ('-' for standard output) instead of publishing into reports/")
    report.add_argument("--format", choices=("html", "json"), default="html")
    report.add_argument("--lang", choices=("de", "en"), default="de", help="language of the labels (default: de)")
    report.set_defaults(handler=cmd_report)

    monitoring = commands.add_parser(
        "monitoring",
        help="Aggregate case counts for a period, small cells suppressed (for the state).",
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
    monitoring.add_argument("--home", help="the hub's home folder")
    monitoring.set_defaults(handler=cmd_monitoring)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def collect(home: HubHome, review_limit: int = 200) -> Any:
    """The facts of a home's database (see hub_db.report_queries)."""
    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.report_queries import collect_facts

    engine = make_engine(home.database_url(home.load_config()))
    try:
        with session_factory(engine)() as session:
            return collect_facts(session, review_limit)
    finally:
        engine.dispose()


def _previous(home: HubHome) -> dict | None:
    path = home.reports / REPORT_JSON
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def make_report(home: HubHome, run: dict | None = None, lang: str = "de") -> dict:
    """Build the report of a home, compared with the last published one."""
    from kim_hub.reporting.model import build_report

    return build_report(collect(home), _now(), _previous(home), run, lang)


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_reports(home: HubHome, run: dict | None = None, lang: str = "de") -> dict:
    """Publish the report into reports/ (JSON + HTML), keeping the previous JSON; returns it."""
    from kim_hub.reporting.html import render_html

    report = make_report(home, run, lang)
    published = home.reports / REPORT_JSON
    if published.exists():
        os.replace(published, home.reports / PREVIOUS_JSON)
    _write(home.reports / REPORT_HTML, render_html(report, lang))
    _write(published, json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return report


def cmd_report(args: argparse.Namespace) -> int:
    from kim_hub.reporting.html import render_html

    home = HubHome.resolve(args.home)
    if not args.out:
        write_reports(home, lang=args.lang)
        print(home.reports / (REPORT_HTML if args.format == "html" else REPORT_JSON))
        return 0
    report = make_report(home, lang=args.lang)
    text = render_html(report, args.lang) if args.format == "html" else json.dumps(report, indent=1, ensure_ascii=False) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        _write(Path(args.out), text)
        print(args.out)
    return 0


def cmd_monitoring(args: argparse.Namespace) -> int:
    from kim_hub.reporting.monitoring import monitoring_csv, monitoring_document, parse_period
    from kim_hub.reporting.suppression import DEFAULT_THRESHOLD

    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if threshold < 2:
        raise ConfigError("--threshold must be at least 2")
    home = HubHome.resolve(args.home)
    document = monitoring_document(collect(home, review_limit=1).records, period, _now(), threshold, args.lang)
    text = monitoring_csv(document) if args.format == "csv" else json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if args.out:
        _write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return 0


__all__ = ["add_commands", "write_reports", "make_report", "cmd_report", "cmd_monitoring"]
