"""Publishing the coordinator's report: the home's facts, compared with the last published report.

``write_reports`` publishes into the home's ``reports/``: ``report.json`` and ``report.html``,
the previous JSON kept as ``report-previous.json``, the baseline of the next report's "changes
since the previous run". Every sync run does this, and so does `kim-hub report` without ``--out``.
The aggregation itself is pure (``reporting``); this module reads the facts and writes the files.
The report lists pseudonyms (open review items, an excerpt of the chain gaps), so making one is a
read of person-level data in the audit log, naming those persons (``pipeline.audit``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from kim_hub.core.access import Access
from kim_hub.hub_db.audit_log import person_objects
from kim_hub.hub_db.legal_basis import held_pseudonyms
from kim_hub.hub_db.report_queries import collect_facts
from kim_hub.mappings.vocabulary import CodeList
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.vocabulary import vocabulary
from kim_hub.reporting.facts import HubFacts
from kim_hub.reporting.html import render_html
from kim_hub.reporting.model import build_report

REPORT_JSON, REPORT_HTML, PREVIOUS_JSON = "report.json", "report.html", "report-previous.json"


def now() -> dt.datetime:
    """The report's time stamp (UTC)."""
    return dt.datetime.now(dt.UTC)


def collect(home: HubHome, review_limit: int = 200) -> HubFacts:
    """The facts of a home's database (see hub_db.report_queries), each district shown by its
    label from the installation's list (``district_labels``); persons listed by pseudonym only
    when the hub may hold them for KIM (``exchange.legal_basis``)."""
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session:
        held = frozenset(held_pseudonyms(session, source_bases(config), kim_policy(config)))
        facts = collect_facts(session, review_limit, held)
    return district_labels(facts, vocabulary(home, config).districts)


def district_labels(facts: HubFacts, districts: CodeList) -> HubFacts:
    """The facts with each record's district replaced by its label from ``districts``, and one
    that stands for no entry (free text stored before the list was closed) by none: the report,
    the monitoring export and their charts publish labels of the list only."""
    records = tuple(replace(record, district=districts.label_of(record.district)) for record in facts.records)
    return replace(facts, records=records)


def _previous(home: HubHome) -> dict[str, Any] | None:
    path = home.reports / REPORT_JSON
    try:
        previous: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return previous


def make_report(
    home: HubHome, run: dict[str, Any] | None = None, lang: str = "de", access: Access | None = None
) -> dict[str, Any]:
    """Build the report of a home, compared with the last published one (a read in the audit log)."""
    report = build_report(collect(home), now(), _previous(home), run, lang)
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session:
            objects = person_objects(session, listed_pseudonyms(report))
        record_read(sessions, config, "report.write", objects, access, {"persons_listed": len(objects)})
    return report


def listed_pseudonyms(report: dict[str, Any]) -> list[str | None]:
    """Every pseudonym the report shows: both sides of its review items, its chain gap excerpts."""
    review = [side["person"] for item in report["review"]["items"] for side in (item["a"], item["b"])]
    gaps = [pseudonym for district in report["chain_gaps"]["by_district"] for pseudonym in district["pseudonyms"]]
    return [*review, *gaps]


def write_atomically(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def report_json(report: dict[str, Any]) -> str:
    """The report document as published."""
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


def write_reports(
    home: HubHome, run: dict[str, Any] | None = None, lang: str = "de", access: Access | None = None
) -> dict[str, Any]:
    """Publish the report into reports/ (JSON + HTML), keeping the previous JSON; returns it."""
    report = make_report(home, run, lang, access)
    published = home.reports / REPORT_JSON
    if published.exists():
        os.replace(published, home.reports / PREVIOUS_JSON)
    write_atomically(home.reports / REPORT_HTML, render_html(report, lang))
    write_atomically(published, report_json(report))
    return report
