"""Dated events: the job centre's full snapshot turns absences into Abgang (and returns into
Zugang); the authority's status messages become events. Nothing is deleted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.models import RecordEvent, SourceRecord
from tests.support import Hub, csv_text
from tests.support.data import ABH_GOOD, HEADER, JOBCENTER_EXPORT


def export(rows: list[bytes]) -> bytes:
    lines = JOBCENTER_EXPORT.read_bytes().split(b"\r\n")
    header = lines[0]
    return b"\r\n".join([header, *rows, f"#Anzahl Datensätze;{len(rows)}".encode("cp1252")]) + b"\r\n"


def fixture_rows() -> list[bytes]:
    lines = JOBCENTER_EXPORT.read_bytes().split(b"\r\n")
    return [line for line in lines[1:] if line and not line.startswith(b"#")]


def events(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        query = select(SourceRecord.record_id, RecordEvent.kind, RecordEvent.occurred_on).join(
            SourceRecord, SourceRecord.id == RecordEvent.record_id
        )
        return sorted((r, k, d.isoformat()) for r, k, d in session.execute(query).all())


def test_missing_from_the_snapshot_is_an_abgang_and_coming_back_a_zugang(hub: Hub) -> None:
    rows = fixture_rows()
    hub.drop("jobcenter", "JC_KIM_20261124.csv", export(rows))
    hub.ingest("jobcenter")
    assert events(hub.sessions) == []
    first_id = hub.stored_id("jobcenter", rows[0].split(b";")[0].decode())  # its Kundennummer, as the hub keeps it

    day2 = [row.replace(b"24.11.2026 23:15", b"25.11.2026 23:15") for row in rows[1:]]
    hub.drop("jobcenter", "JC_KIM_20261125.csv", export(day2))
    hub.ingest("jobcenter")
    assert events(hub.sessions) == [(first_id, "abgang", "2026-11-25")]
    with hub.sessions() as session:  # history, not deletion
        assert session.execute(select(SourceRecord).where(SourceRecord.record_id == first_id)).scalar_one()

    day3 = [row.replace(b"24.11.2026 23:15", b"26.11.2026 23:15") for row in rows]
    hub.drop("jobcenter", "JC_KIM_20261126.csv", export(day3))
    hub.ingest("jobcenter")
    assert events(hub.sessions) == [(first_id, "abgang", "2026-11-25"), (first_id, "zugang", "2026-11-26")]


def test_a_snapshots_abgang_reaches_the_transitions_worklist(hub: Hub) -> None:
    """The Abgang is an event of the record's history, not of any row: the worklists read the
    history, so it is listed (it was stored but never seen by them). The job centre's customers
    are listed here under a statute the installation declared as covering KIM: under the shipped
    SGB II § 50 (linkage only) nobody without a consent naming kim is (tests/test_legal_basis.py)."""
    from kim_hub.pipeline.worklists import rechtskreis_transitions

    hub.config.legal_bases = {"statute:Landesgesetz § 1": "kim"}
    hub.config.sources["jobcenter"].legal_basis = "statute:Landesgesetz § 1"
    hub.home.save_config(hub.config)
    rows = fixture_rows()
    hub.drop("jobcenter", "JC_KIM_20261124.csv", export(rows))
    hub.sync()
    assert [t.kind for t in rechtskreis_transitions(hub.home)] == []
    day2 = [row.replace(b"24.11.2026 23:15", b"25.11.2026 23:15") for row in rows[1:]]
    hub.drop("jobcenter", "JC_KIM_20261125.csv", export(day2))
    hub.sync()
    assert [(t.kind, t.on.isoformat(), t.before) for t in rechtskreis_transitions(hub.home)] == [
        ("abgang", "2026-11-25", "SGB II")
    ]


def test_authority_status_messages_become_dated_events(hub: Hub) -> None:
    good = ABH_GOOD.read_text(encoding="utf-8")
    assert 'typ="' in good
    hub.drop("abh", "a.xml", good.encode("utf-8"))
    hub.ingest("abh")
    kinds = {kind for _record, kind, _on in events(hub.sessions)}
    expected = {t for t in ("statusaenderung", "wegzug", "einbuergerung", "zuzug", "berichtigung") if f'typ="{t}"' in good}
    assert kinds == expected and kinds, "every non-bestand message type in the fixture is an event"
    for record_id, _kind, _on in events(hub.sessions):
        assert record_id.startswith("ABH-")  # the keyed id, never the AZR number


def test_an_older_row_replayed_after_a_newer_one_changes_nothing(hub: Hub) -> None:
    header = HEADER.rstrip("\n") + ",updated_at\n"
    newer = "C-9,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,,active"
    hub.drop("caritas", "new.csv", csv_text([newer + ",2026-11-20"], header))
    hub.ingest("caritas")
    hub.drop("caritas", "old.csv", csv_text([newer.replace(",active", ",intake") + ",2026-10-01"], header))
    outcome = hub.ingest("caritas")
    assert (outcome.records_accepted, outcome.records_unchanged) == (0, 1)
    with hub.sessions() as session:
        stored = session.execute(select(SourceRecord).where(SourceRecord.record_id == "C-9")).scalar_one()
    assert stored.case_data["case_status"] == "active"
