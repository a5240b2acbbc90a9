"""The report published only when something it is made from changed (pipeline.reports.publish_report,
reporting.inputs): a sync that found nothing new leaves report.json and report.html as they were;
new data, another run, another day or a report file touched since make it anew.

Real files through the real ingest (no Prefect), on SQLite and PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from kim_hub.pipeline import reports
from kim_hub.pipeline.reports import INPUTS_JSON, PREVIOUS_JSON, REPORT_HTML, REPORT_JSON, publish_report, write_reports
from tests.support import Hub, report_home
from tests.support.data import REPORT_HEADER

QUIET_RUN = {"sources": {"caritas": {"files_seen": 0}}, "linking": None, "records_rejected": 0, "failed": {}}
LONG_AGO = 946_684_800  # 2000-01-01: a published file's time, so a rewrite cannot hide within the clock's resolution
FILES = (REPORT_JSON, REPORT_HTML, PREVIOUS_JSON, INPUTS_JSON)


def _published(hub: Hub) -> dict[str, tuple[int, bytes]]:
    """Each published file's modification time and bytes, after setting their times to LONG_AGO."""
    for name in FILES:
        path = hub.home.reports / name
        if path.exists():
            os.utime(path, (LONG_AGO, LONG_AGO))
    return _state(hub.home.reports)


def _state(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        name: (int((folder / name).stat().st_mtime), (folder / name).read_bytes()) for name in FILES if (folder / name).exists()
    }


def test_unchanged_inputs_leave_the_report_alone(hub: Hub) -> None:
    home = report_home(hub).home
    first = publish_report(home, QUIET_RUN)
    assert first.written and first.page == home.reports / REPORT_HTML
    before = _published(hub)
    for _ in range(2):
        again = publish_report(home, dict(QUIET_RUN))
        assert not again.written
        assert _state(home.reports) == before  # not one file rewritten: same times, same bytes
        assert again.report == json.loads((home.reports / REPORT_JSON).read_text(encoding="utf-8"))
        assert again.report["generated_at"] == first.report["generated_at"]


def test_new_data_makes_the_report_anew(hub: Hub) -> None:
    home = report_home(hub).home
    publish_report(home, QUIET_RUN)
    before = _published(hub)
    hub.drop_rows(
        "caritas", "more.csv", ["C-9,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"], REPORT_HEADER
    )
    hub.ingest("caritas")
    hub.link()
    after = publish_report(home, QUIET_RUN)
    assert after.written and after.report["totals"]["records"] == before_records(before) + 1
    now = _state(home.reports)
    assert now[REPORT_JSON][0] > LONG_AGO and now[REPORT_HTML][0] > LONG_AGO
    assert now[PREVIOUS_JSON][1] == before[REPORT_JSON][1]  # the one before is the baseline of the changes
    assert {c["key"] for c in after.report["changes"]["counts"]} >= {"totals.records", "records.caritas"}


def before_records(state: dict[str, tuple[int, bytes]]) -> int:
    return int(json.loads(state[REPORT_JSON][1])["totals"]["records"])


@pytest.mark.parametrize("change", ["run", "day", "language", "report edited", "page removed"])
def test_anything_else_the_report_depends_on_makes_it_anew(hub: Hub, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    home = report_home(hub).home
    publish_report(home, QUIET_RUN)
    _published(hub)
    run, lang = dict(QUIET_RUN), "de"
    if change == "run":
        run["records_rejected"] = 1
    elif change == "day":
        tomorrow = reports.now() + dt.timedelta(days=1)
        monkeypatch.setattr(reports, "now", lambda: tomorrow)
    elif change == "language":
        lang = "en"
    elif change == "report edited":
        path = home.reports / REPORT_JSON
        path.write_text(path.read_text(encoding="utf-8").replace('"totals"', '"totals" ', 1), encoding="utf-8")
    else:
        (home.reports / REPORT_HTML).unlink()
    assert publish_report(home, run, lang).written
    assert (home.reports / REPORT_HTML).stat().st_mtime > LONG_AGO


def test_kim_hub_report_always_writes(hub: Hub) -> None:
    """The operator's own `kim-hub report` (write_reports) makes the report whatever the digest says,
    and leaves a digest the next sync compares with."""
    home = report_home(hub).home
    write_reports(home)
    before = _published(hub)
    write_reports(home)
    assert _state(home.reports)[REPORT_JSON][0] > LONG_AGO
    assert not publish_report(home).written
    assert before.keys() <= set(FILES)


BUSY_RUN = {
    "sources": {"caritas": {"source": "caritas", "files_seen": 1, "records_in": 1, "records_accepted": 1}},
    "linking": {"records_linked": 1, "persons_created": 1, "persons_merged": 0, "persons_split": 0, "review_items": 0},
    "push": {"summaries_sent": 1, "failed": {}, "documents_refused": {}, "unchanged": 0},
    "records_rejected": 0,
    "failed": {},
}
NOTHING_RUN = {
    "sources": {"caritas": {"source": "caritas", "files_seen": 0, "records_in": 0}},
    "linking": {"records_linked": 0, "persons_created": 0, "model_version": 3},
    "push": {"summaries_sent": 0, "failed": {}, "documents_refused": {}, "unchanged": 4, "documents_held": {"awo": 2}},
    "records_rejected": 0,
    "files_failed": 0,
    "failed": {},
}


def test_a_run_that_found_nothing_leaves_the_report_of_the_run_before(hub: Hub) -> None:
    """The first sync after one that did something finds nothing: the report keeps that run's
    summary and its "changes", instead of being made again for a run with nothing to tell."""
    home = report_home(hub).home
    busy = publish_report(home, BUSY_RUN)
    assert busy.written
    before = _published(hub)
    again = publish_report(home, NOTHING_RUN)
    assert not again.written and _state(home.reports) == before
    assert again.report["generated_at"] == busy.report["generated_at"]


@pytest.mark.parametrize(
    "change", ["file seen", "linked", "sent", "push failed", "step failed", "rows rejected", "another day", "facts"]
)
def test_a_run_that_found_something_or_a_change_of_facts_makes_it_anew(
    hub: Hub, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = report_home(hub).home
    publish_report(home, BUSY_RUN)
    _published(hub)
    run = json.loads(json.dumps(NOTHING_RUN))
    if change == "file seen":
        run["sources"]["caritas"]["files_seen"] = 1
    elif change == "linked":
        run["linking"]["records_linked"] = 2
    elif change == "sent":
        run["push"]["summaries_sent"] = 1
    elif change == "push failed":
        run["push"]["failed"] = {"awo": "TransientError"}
    elif change == "step failed":
        run["failed"] = {"linking": "TransientError"}
    elif change == "rows rejected":
        run["records_rejected"] = 2
    elif change == "another day":
        tomorrow = reports.now() + dt.timedelta(days=1)
        monkeypatch.setattr(reports, "now", lambda: tomorrow)
    else:
        hub.drop_rows(
            "caritas",
            "more.csv",
            ["C-9,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"],
            REPORT_HEADER,
        )
        hub.ingest("caritas")
    assert publish_report(home, run).written
