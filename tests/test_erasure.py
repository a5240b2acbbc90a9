"""Erasure and retention: no trace of the record left, the person goes with its last record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from kim_hub.hub_db.models import LinkEvent, Person, SourceRecord
from kim_hub.pipeline.erasure import apply_retention, erase
from kim_hub.pipeline.ingest import ingest_source
from kim_hub.pipeline.links import link_rows
from tests.test_ingest_pipeline import drop, ingest_samira_in_two_sources


def dump_text(sessions) -> str:
    """Every value of every table, as text: what a byte scan of the database would see."""
    with sessions() as session:
        tables = [
            row[0]
            for row in session.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if session.bind.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            )
        ]
        return "\n".join(str(row) for table in tables for row in session.execute(text(f'SELECT * FROM "{table}"')))


def test_erasing_one_of_two_records_keeps_the_person_erasing_both_removes_it(hub) -> None:
    home, config, sessions, keys = hub
    ingest_samira_in_two_sources(hub)
    before = {(s, r): p for s, r, p, _st, _sc in link_rows(home)}
    pseudonym = before[("caritas", "C-1")]
    assert before[("jobcenter", "962D000001")] == pseudonym

    assert erase(home, sessions, "caritas", "C-1").records_erased == 1
    after = {(s, r): p for s, r, p, _st, _sc in link_rows(home)}
    assert ("caritas", "C-1") not in after and after[("jobcenter", "962D000001")] == pseudonym
    assert not list((home.path / "archive" / "caritas").iterdir()), "the delivery holding the row in clear is gone"

    outcome = erase(home, sessions, "jobcenter", "962D000001")
    assert (outcome.records_erased, outcome.persons_erased) == (1, 1)
    everything = dump_text(sessions)
    for trace in ("C-1", "962D000001", pseudonym):
        assert trace not in everything
    with sessions() as session:
        assert session.execute(select(LinkEvent.kind).where(LinkEvent.kind == "erase")).scalars().all() == ["erase", "erase"]
        assert session.execute(select(Person).where(Person.pseudonym == pseudonym)).first() is None


def test_unknown_record_erases_nothing(hub) -> None:
    home, config, sessions, keys = hub
    assert erase(home, sessions, "caritas", "nope").records_erased == 0


def test_retention_erases_closed_cases_past_their_period(hub) -> None:
    home, config, sessions, keys = hub
    header_rows = [
        "C-7,Closedova,Anna,1970-01-02,F,UKR,Weg 1,51373,,closed",
        "C-8,Openova,Olga,1971-02-03,F,UKR,Weg 2,51373,,active",
    ]
    path = drop(home, "caritas", "r.csv", header_rows)
    text_ = path.read_text(encoding="utf-8").replace("case_status\n", "case_status,case_closed\n")
    text_ = text_.replace(",closed\n", ",closed,2024-01-31\n").replace(",active\n", ",active,\n")
    path.write_text(text_, encoding="utf-8")
    import os
    import time

    os.utime(path, (time.time() - 60, time.time() - 60))
    ingest_source(home, config, "caritas", keys, sessions)
    config.sources["caritas"].retention_days = 365
    summary = apply_retention(home, config, sessions, today=dt.date(2026, 11, 25))
    assert summary["caritas"] == {"records_erased": 1, "persons_erased": 0}  # not linked yet: no person
    with sessions() as session:
        left = session.execute(select(SourceRecord.record_id).where(SourceRecord.source == "caritas")).scalars().all()
    assert left == ["C-8"]
