"""The data path without Prefect: files → rows → summaries → encodings → database → links.

Real files, real SQLite and PostgreSQL (the ``hub`` fixture); the flow wrapper is tested end to end
in tests/e2e.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.hub_db.link_queue import dequeue, waiting
from kim_hub.hub_db.models import IngestFile, RejectedRow, SourceRecord
from kim_hub.pipeline.encode_pool import CHUNK_ROWS
from kim_hub.pipeline.links import link_rows
from tests.support import Hub, csv_text, samira_in_two_sources
from tests.support.data import FLAWED, GOOD, HEADER, SAMIRA_AT_JOBCENTRE, UNATTRIBUTABLE


def test_every_attributable_row_lands_and_a_flawed_field_becomes_a_note(hub: Hub) -> None:
    hub.drop_rows("caritas", "mixed.csv", GOOD + FLAWED + UNATTRIBUTABLE)
    outcome = hub.ingest("caritas")
    assert (outcome.records_in, outcome.records_accepted, outcome.records_rejected) == (7, 5, 2)
    with hub.sessions() as session:
        rejected = session.execute(select(RejectedRow).order_by(RejectedRow.row_number)).scalars().all()
        stored = session.execute(select(SourceRecord.record_id)).scalars().all()
    assert sorted(stored) == ["C-1", "C-2", "C-3", "C-4", "C-5"]
    assert {r.row_number for r in rejected} == {7, 8}
    assert all(r.file_name == "mixed.csv" for r in rejected)
    notes = hub.receipt("caritas", "mixed.csv")["notes"]
    by_row: dict[int, set[str]] = {}
    for note in notes:
        by_row.setdefault(note["row"], set()).add(note["field"])
    assert by_row[4] == {"birth_date"}
    assert 5 not in by_row  # one name is a name: nothing to note
    assert {"nationality", "azr_number"} <= by_row[6]
    for text in [r.reason for r in rejected] + [n["reason"] for n in notes]:  # fields, never values
        for value in ("31.02.1990", "XYZ", "12345", "Quux", "Zed", "Noor"):
            assert value not in text


def test_same_file_twice_is_skipped_and_the_provider_is_told(hub: Hub) -> None:
    receipts = hub.path / "outbox" / "caritas" / "receipts"
    hub.drop_rows("caritas", "a.csv", GOOD)
    hub.ingest("caritas")
    assert not list(hub.home.inbox("caritas").iterdir())
    assert (hub.path / "archive" / "caritas" / "a.csv").exists()
    first = hub.receipt("caritas", "a.csv")
    assert (first["status"], first["accepted"], first["rejected"]) == ("done", 2, 0)

    hub.drop_rows("caritas", "b.csv", GOOD)  # the same content again, under another name
    again = hub.ingest("caritas")
    assert (again.files_skipped, again.records_accepted) == (1, 0)
    assert hub.receipt("caritas", "b.csv")["status"] == "duplicate"
    assert "already received" in (receipts / "b.csv.receipt.txt").read_text()
    with hub.sessions() as session:
        assert len(session.execute(select(IngestFile)).scalars().all()) == 1


def test_receipt_names_rows_and_fields_never_values(hub: Hub) -> None:
    hub.drop_rows("caritas", "mixed.csv", GOOD + FLAWED + UNATTRIBUTABLE)
    hub.ingest("caritas")
    folder = hub.path / "outbox" / "caritas" / "receipts"
    receipt = hub.receipt("caritas", "mixed.csv")
    assert receipt["status"] == "done_with_notes"
    assert (receipt["rows_total"], receipt["accepted"], receipt["rejected"], receipt["noted"]) == (7, 5, 2, 2)
    assert {(r["row"], r["field"]) for r in receipt["rejections"]} == {(7, "record_id"), (8, "family_name")}
    assert {(n["row"], n["field"]) for n in receipt["notes"]} >= {(4, "birth_date"), (6, "nationality"), (6, "azr_number")}
    text = (folder / "mixed.csv.receipt.txt").read_text()
    assert "Zeile 4, birth_date" in text and "Zeile 7, record_id" in text and "mit Hinweisen" in text
    for value in ("31.02.1990", "XYZ", "12345", "Quux", "Zed", "Haddad", "Yara"):
        assert value not in text and value not in json.dumps(receipt)


def test_files_still_being_written_are_left_alone(hub: Hub) -> None:
    fresh = hub.home.inbox("caritas") / "fresh.csv"
    fresh.write_text(csv_text(GOOD[:1], HEADER), encoding="utf-8")  # mtime now: not settled
    partial = hub.drop_rows("caritas", "upload.csv.part", GOOD)
    outcome = hub.ingest("caritas")
    assert outcome.files_seen == 0
    assert fresh.exists() and partial.exists()


def test_a_crash_after_commit_finishes_the_file_exactly_once(hub: Hub) -> None:
    hub.drop_rows("caritas", "a.csv", GOOD)
    hub.ingest("caritas")
    # simulate a crash between commit and archiving: the file is back in processing/
    archived = hub.path / "archive" / "caritas" / "a.csv"
    archived.rename(hub.path / "processing" / "caritas" / "a.csv")
    (hub.path / "outbox" / "caritas" / "receipts" / "a.csv.receipt.json").unlink()
    rerun = hub.ingest("caritas")
    assert (rerun.files_skipped, rerun.records_accepted) == (1, 0)
    assert archived.exists() and not list((hub.path / "processing" / "caritas").iterdir())
    receipt = hub.receipt("caritas", "a.csv")
    assert (receipt["status"], receipt["accepted"]) == ("done", 2)  # the original receipt, rebuilt


def test_a_crash_before_commit_imports_the_claimed_file(hub: Hub) -> None:
    claimed = hub.path / "processing" / "caritas"
    claimed.mkdir(parents=True)
    (claimed / "a.csv").write_text(csv_text(GOOD, HEADER), encoding="utf-8")
    outcome = hub.ingest("caritas")
    assert outcome.records_accepted == 2


def test_a_file_a_live_run_is_importing_is_left_to_it(hub: Hub) -> None:
    hub.drop_rows("caritas", "a.csv", GOOD)
    folder = DropFolder.under(hub.path, "caritas")
    with folder.claimed(folder.pending(0)[0]) as held:  # another run holds a.csv in processing/
        assert held is not None and held.path == folder.processing / "a.csv" and held.refused is None
        assert hub.ingest("caritas").files_seen == 0
        assert held.path.exists()
    # that run died without finishing it: nobody holds the leftover now, so the next run imports it
    assert hub.ingest("caritas").records_accepted == 2


def test_unchanged_rows_change_nothing_and_changed_rows_update(hub: Hub) -> None:
    hub.drop_rows("caritas", "day1.csv", GOOD)
    hub.ingest("caritas")
    hub.link()
    with hub.sessions() as session:
        before = {r.record_id: (r.content_hash, r.updated_at) for r in session.execute(select(SourceRecord)).scalars()}
    hub.drop_rows("caritas", "day2.csv", [GOOD[0], GOOD[1].replace(",intake", ",active")])
    outcome = hub.ingest("caritas")
    assert (outcome.records_accepted, outcome.records_unchanged) == (1, 1)
    with hub.sessions() as session:
        after = {r.record_id: r for r in session.execute(select(SourceRecord)).scalars()}
    assert (after["C-1"].content_hash, after["C-1"].updated_at) == before["C-1"]
    assert after["C-2"].content_hash != before["C-2"][0]
    assert after["C-2"].case_data["case_status"] == "active"
    with hub.sessions() as session:
        queued = waiting(session)
    assert after["C-2"].id in queued and after["C-1"].id not in queued


def test_pseudonyms_stay_stable_as_records_arrive(hub: Hub) -> None:
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.ingest("caritas")
    hub.link()
    first = hub.pseudonyms()
    # the job centre knows Samira Haddad too (other spelling), and someone new
    hub.drop_rows(
        "jobcenter",
        "j.csv",
        [
            SAMIRA_AT_JOBCENTRE,
            "962D000002,Neumann,Jakob,1969-07-21,M,DEU,Andereweg 2,51377,,active",
        ],
    )
    hub.ingest("jobcenter")
    outcome = hub.link()
    assert outcome.records_linked == 2
    second = hub.pseudonyms()
    assert all(second[key] == pseudonym for key, pseudonym in first.items())
    assert second[("jobcenter", hub.stored_id("jobcenter", "962D000001"))] == first[("caritas", "C-1")]
    assert second[("jobcenter", hub.stored_id("jobcenter", "962D000002"))] not in first.values()
    assert hub.link().records_linked == 0


def test_review_decisions_bind_the_clustering(hub: Hub) -> None:
    from kim_hub.hub_db.master_index import LinkPolicy
    from kim_hub.hub_db.models import ReviewItem
    from kim_hub.hub_db.review import decide, list_items

    samira_in_two_sources(hub)
    at_jobcentre = ("jobcenter", hub.stored_id("jobcenter", "962D000001"))  # the links and the review list show the token
    person = hub.pseudonyms()
    assert person[("caritas", "C-1")] == person[at_jobcentre]
    assert person[("caritas", "C-1")] != person[("caritas", "C-2")]

    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        session.add(ReviewItem(record_a=ids["C-1"], record_b=ids[at_jobcentre[1]], score=0.9, evidence={}))
    with hub.sessions() as session:
        entries = list_items(session)
        assert entries[0].a[0] == "caritas" and entries[0].b == (*at_jobcentre, person[at_jobcentre])
    with hub.sessions() as session, session.begin():
        decide(session, entries[0].id, "different", LinkPolicy())
    after = hub.pseudonyms()
    assert after[("caritas", "C-1")] != after[at_jobcentre]
    with hub.sessions() as session, session.begin():
        item = ReviewItem(record_a=ids["C-1"], record_b=ids["C-2"], score=0.6, evidence={})
        session.add(item)
    with hub.sessions() as session, session.begin():
        decide(session, item.id, "same", LinkPolicy())
    final = {(s, r): (p, status) for s, r, p, status, _score in link_rows(hub.home)}
    assert final[("caritas", "C-1")][0] == final[("caritas", "C-2")][0]
    assert final[("caritas", "C-2")][1] == "manual"
    assert final[("caritas", "C-1")][0] != final[at_jobcentre][0]  # the earlier decision holds

    from kim_hub.hub_db.models import LinkEvent

    with hub.sessions() as session:
        events = session.execute(select(LinkEvent).order_by(LinkEvent.id)).scalars().all()
    kinds = [e.kind for e in events]
    assert "split" in kinds and "merge" in kinds
    split = next(e for e in events if e.kind == "split")
    assert split.before == [person[("caritas", "C-1")]] and len(split.after) == 2
    merge = next(e for e in events if e.kind == "merge")
    assert final[("caritas", "C-1")][0] in merge.after and len(merge.before) == 2


def test_reestimate_stores_a_version_and_relinking_keeps_pseudonyms(hub: Hub) -> None:
    from kim_hub.hub_db.master_index import reestimate
    from kim_hub.hub_db.models import ModelVersion

    samira_in_two_sources(hub)
    before = link_rows(hub.home)
    with hub.sessions() as session, session.begin():
        version = reestimate(session, relink=True)
    assert hub.link().records_linked == 3
    assert link_rows(hub.home) == before
    with hub.sessions() as session:
        versions = session.execute(select(ModelVersion.id)).scalars().all()
    assert version == max(versions) and len(versions) == 2


def test_a_file_another_run_claims_while_listing_is_skipped(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs at once: a file listed in the inbox may be renamed to processing/ before its stat."""
    from kim_hub.connectors import drop_folder

    hub.drop_rows("caritas", "a.csv", GOOD)
    folder = DropFolder.under(hub.path, "caritas")
    gone = folder.inbox / "taken-by-the-other-run.csv"
    listed = drop_folder._regular_files
    monkeypatch.setattr(drop_folder, "_regular_files", lambda path: listed(path) + ([gone] if path == folder.inbox else []))
    assert folder.pending(0) == [folder.inbox / "a.csv"]


def test_dequeue_takes_off_exactly_the_records_given(hub: Hub) -> None:
    """Some of the queue: only those go (one executemany); all of it: the queue is empty."""
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.ingest("caritas")
    with hub.sessions() as session, session.begin():
        queued = sorted(waiting(session))
        assert len(queued) == len(GOOD) >= 2
        dequeue(session, queued[:1])
    with hub.sessions() as session, session.begin():
        assert sorted(waiting(session)) == queued[1:]
        dequeue(session, queued[1:])
    with hub.sessions() as session:
        assert waiting(session) == set()


def test_a_first_delivery_lands_as_it_does_where_the_source_held_records(hub: Hub) -> None:
    """A source's first file is looked up only against its own earlier chunks (hub_db.records):
    it must come out as the same file does where the source held records before, repeats of a
    record id chunks apart included (refused as such, whichever way)."""
    far = 2 * CHUNK_ROWS + 7  # the repeats land in later chunks than the first rows
    rows = [f"R-{i},Testname{i},Anna,1990-01-{1 + i % 28:02d},F,SYR,Testweg {i},51373,,active" for i in range(far)]
    rows.append(rows[1])  # the same row again
    rows.append(rows[2].replace("active", "closed"))  # the same record changed
    hub.drop_rows("awo", "old.csv", ["X-1,Held,Before,1980-05-05,M,SYR,Testweg 9,51373,,active"])
    hub.ingest("awo")
    outcomes = {}
    for source in ("caritas", "awo"):  # caritas: its first delivery; awo: held a record before
        hub.drop_rows(source, "export.csv", rows)
        outcome = hub.ingest(source)
        outcomes[source] = (outcome.records_in, outcome.records_accepted, outcome.records_unchanged, outcome.records_rejected)
    assert outcomes["caritas"] == outcomes["awo"] == (far + 2, far, 0, 2)
    with hub.sessions() as session:
        stored = session.execute(select(SourceRecord.source, SourceRecord.record_id, SourceRecord.case_data)).all()
    per_source = {
        source: sorted((r, json.dumps(c, sort_keys=True)) for s, r, c in stored if s == source) for source in ("caritas", "awo")
    }
    assert len(per_source["caritas"]) == far
    assert per_source["caritas"] == [row for row in per_source["awo"] if row[0] != "X-1"]
