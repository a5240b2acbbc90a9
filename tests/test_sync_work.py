"""What a sync finds to do before doing it (pipeline.sync_work): nothing at all only after a
complete sync that changed nothing, and something again after every kind of change a sync acts on.

Real files and the real pipeline (no Prefect), on SQLite and PostgreSQL (the ``hub`` fixture);
the Prefect flow's use of it (one task when there is nothing to do) is in tests/e2e/test_noop_sync.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
from sqlalchemy import text

from kim_hub.core.access import Actor
from kim_hub.hub_db.audit_log import append
from kim_hub.pipeline import sync_work
from kim_hub.pipeline.audit import record_admin, record_read, record_view
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import SourceConfig
from kim_hub.pipeline.reports import publish_report
from kim_hub.pipeline.sync_work import QUIET_FILE, SyncWork, forget_quiet, look_for_work, note_quiet, quiet_report
from tests.support import Hub
from tests.support.data import REPORT_HEADER

ROW = "C-1,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"
QUIET_SUMMARY: dict[str, Any] = {"sources": {}, "linking": None, "push": None, "records_rejected": 0, "failed": {}}
LONG_AGO = 946_684_800  # 2000-01-01


def _complete_sync(hub: Hub) -> SyncWork:
    """What a sync's steps do, each as its task calls it; returns the look taken before them."""
    work = look_for_work(hub.home, hub.config)
    for source in work.sources:
        hub.ingest(source)
    hub.link()
    hub.push(dt.date.today())
    publish_report(hub.home, QUIET_SUMMARY)
    return work


def _quiet_hub(hub: Hub) -> Hub:
    """A hub with one record, synced until a complete sync changed nothing and was noted quiet."""
    hub.drop_rows("caritas", "first.csv", [ROW], REPORT_HEADER)
    first = _complete_sync(hub)
    assert not note_quiet(hub.home, hub.config, first, {"page": "p", "generated_at": "t"})  # it changed things
    second = _complete_sync(hub)
    assert note_quiet(hub.home, hub.config, second, {"page": "p", "generated_at": "t"})  # this one changed nothing
    return hub


def test_nothing_to_do_only_after_a_complete_sync_that_changed_nothing(hub: Hub) -> None:
    fresh = look_for_work(hub.home, hub.config)
    assert fresh.sources == tuple(hub.config.sources) and not fresh.settled and not fresh.nothing
    _quiet_hub(hub)
    again = look_for_work(hub.home, hub.config)
    assert again.nothing and again.sources == ()
    assert quiet_report(hub.home) == {"written": False, "page": "p", "generated_at": "t"}
    assert not look_for_work(hub.home, hub.config, full=True).nothing  # `kim-hub ingest --full`


def test_the_note_holds_digests_and_names_only(hub: Hub) -> None:
    _quiet_hub(hub)
    note = json.loads((hub.home.var / QUIET_FILE).read_text(encoding="utf-8"))
    assert set(note) == {"state", "configuration", "pulling", "report"}
    assert all(len(note[key]) == 64 and int(note[key], 16) >= 0 for key in ("state", "configuration"))
    assert (hub.home.var / QUIET_FILE).stat().st_mode & 0o077 == 0


def test_a_delivery_gives_its_source_work_and_only_it(hub: Hub) -> None:
    _quiet_hub(hub)
    hub.drop_rows("awo", "new.csv", [ROW.replace("C-1", "A-1")], REPORT_HEADER)
    work = look_for_work(hub.home, hub.config)
    assert work.sources == ("awo",) and work.settled and not work.nothing
    assert look_for_work(hub.home, hub.config, ["caritas"]).nothing  # `--source caritas` has nothing to do


def test_a_leftover_of_a_crashed_run_is_work(hub: Hub) -> None:
    _quiet_hub(hub)
    processing = hub.path / "processing" / "caritas"
    processing.mkdir(parents=True, exist_ok=True)
    (processing / "crashed.csv").write_text("x\n", encoding="utf-8")
    assert look_for_work(hub.home, hub.config).sources == ("caritas",)


def test_copies_past_their_period_give_their_source_work(hub: Hub) -> None:
    """The purge of archived deliveries is not put off for want of a delivery: the look applies
    the purge's own rule (pipeline.copies.copies_due)."""
    _quiet_hub(hub)
    archived = next((hub.path / "archive" / "caritas").iterdir())
    assert look_for_work(hub.home, hub.config).nothing
    os.utime(archived, (LONG_AGO, LONG_AGO))
    assert look_for_work(hub.home, hub.config).sources == ("caritas",)


def test_a_missing_folder_of_a_source_is_work(hub: Hub) -> None:
    _quiet_hub(hub)
    (hub.home.outbox("awo", "summaries")).rmdir()
    assert look_for_work(hub.home, hub.config).sources == ("awo",)


def test_a_source_with_an_api_always_has_work(hub: Hub) -> None:
    hub.config.sources["caritas"] = SourceConfig(connectors=["rest"], options={"base_url": "https://caritas.invalid/api"})
    work = look_for_work(hub.home, hub.config)
    assert note_quiet(hub.home, hub.config, work, {"page": "p", "generated_at": "t"})  # an empty home: nothing changes
    assert look_for_work(hub.home, hub.config).sources == ("caritas",)


@pytest.mark.parametrize("change", ["delivery taken in", "audited change", "link queued", "day", "hub.toml", "key folder"])
def test_every_change_a_sync_acts_on_unsettles_the_state(hub: Hub, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _quiet_hub(hub)
    if change == "delivery taken in":  # e.g. over the API, by another process: the inbox is empty again
        hub.drop_rows("awo", "api.csv", [ROW.replace("C-1", "A-2")], REPORT_HEADER)
        hub.ingest("awo")
    elif change == "audited change":  # a reviewer's decision, an erasure, a purge: each appends to the change channel
        with open_sessions(hub.home, hub.config) as sessions, sessions() as session, session.begin():
            append(session, "change", "review.decide", [], {"decision": "same"})
    elif change == "link queued":
        hub.drop_rows("awo", "api.csv", [ROW.replace("C-1", "A-2")], REPORT_HEADER)
        hub.ingest("awo")
        hub.link()
    elif change == "day":
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        monkeypatch.setattr(sync_work, "state_dates", lambda: (tomorrow, tomorrow))
    elif change == "hub.toml":
        hub.home.config_file.write_text(hub.home.config_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    else:
        (hub.home.key_dir(hub.config) / "scheme-k9").write_text("2\n", encoding="utf-8")
    work = look_for_work(hub.home, hub.config)
    assert not work.settled and not work.nothing
    if change in ("hub.toml", "key folder"):  # a changed configuration: every source runs
        assert work.sources == tuple(hub.config.sources)


def test_pages_viewed_and_administration_leave_the_state_settled(hub: Hub) -> None:
    """The web application is used all day: a page view, a listing or an account added change
    nothing a sync acts on, so the next sync still has nothing to do."""
    _quiet_hub(hub)
    record_view(hub.home, Actor.os_user(), "review.queue", {"role": "reviewer"})
    with open_sessions(hub.home, hub.config) as sessions:
        record_read(sessions, hub.config, "review.list", [], None, {"items": 0})
        record_admin(sessions, "users.add", {"user": "someone"})
    assert look_for_work(hub.home, hub.config).nothing


def test_a_sync_that_changed_something_or_met_a_change_is_not_noted(hub: Hub) -> None:
    _quiet_hub(hub)
    work = look_for_work(hub.home, hub.config)
    hub.drop_rows("awo", "api.csv", [ROW.replace("C-1", "A-2")], REPORT_HEADER)
    hub.ingest("awo")  # written while that sync ran
    assert not note_quiet(hub.home, hub.config, work, {"page": "p", "generated_at": "t"})
    assert not (hub.home.var / QUIET_FILE).exists()
    assert not look_for_work(hub.home, hub.config).settled


def test_forgetting_makes_the_next_sync_complete(hub: Hub) -> None:
    _quiet_hub(hub)
    forget_quiet(hub.home)
    forget_quiet(hub.home)  # twice is harmless
    work = look_for_work(hub.home, hub.config)
    assert work.sources == tuple(hub.config.sources) and not work.settled


def test_the_marks_read_by_the_standard_library_driver_are_those_read_through_sqlalchemy(hub: Hub) -> None:
    """On SQLite a sync's look reads the marks without SQLAlchemy (hub_db.sync_marks); both ways
    must give one digest, or a note made one way would never match a look made the other."""
    from kim_hub.hub_db.sync_marks import database_state, sqlite_state
    from kim_hub.pipeline.ledger_state import sqlite_file

    _quiet_hub(hub)
    with hub.sessions() as session:
        through_sqlalchemy = database_state(session)
    path = sqlite_file(hub.home.database_url(hub.config))
    if path is None:  # PostgreSQL: only the one way
        assert hub.home.database_url(hub.config).startswith("postgresql")
        return
    assert sqlite_state(path) == through_sqlalchemy
    assert sqlite_state(hub.path / "no-such.db") is None  # the caller then takes the usual way


def test_the_ledger_check_applies_what_a_database_behind_the_ledger_misses(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's first step (pipeline.ledger_state): in step, nothing is opened; behind the
    ledger, the usual opening applies the missing tombstones."""
    from kim_hub.pipeline import database, ledger_state

    opened: list[str] = []
    monkeypatch.setattr(database, "bring_up_to_ledger", lambda home: opened.append("full"))
    ledger_state.bring_up_to_ledger(hub.home)
    path = ledger_state.sqlite_file(hub.home.database_url(hub.config))
    assert opened == ([] if path is not None else ["full"])  # SQLite in step: no SQLAlchemy; else the usual way
    if path is not None:
        with hub.sessions() as session, session.begin():
            session.execute(text("UPDATE erasure_state SET applied_sequence = applied_sequence + 1"))
            if session.execute(text("SELECT count(*) FROM erasure_state")).scalar_one() == 0:
                session.execute(text("INSERT INTO erasure_state (id, applied_sequence, updated_at) VALUES (1, 1, '2026-01-01')"))
        ledger_state.bring_up_to_ledger(hub.home)
        assert opened == ["full"]  # out of step: the usual opening, which applies (or refuses) as before
