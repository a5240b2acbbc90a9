"""Collection over the API (pipeline layer): a body configured with ``summaries = "collect"`` gets
exactly the documents an outbox body gets, held by the push with stable ids and a cursor; the
transfer is recorded when it acknowledges them, so notices follow from it as from an outbox; no
body reaches another's documents; every read and acknowledgement is in the audit log; an erasure
takes the held documents with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from kim_hub.core.access import Actor
from kim_hub.hub_db.models import AuditEntry, HeldDocument, Transfer
from kim_hub.pipeline.api_collect import NotCollectingError, acknowledge, documents_for
from kim_hub.pipeline.erasure import erase
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv, person_at
from tests.support.databases import sqlite_url
from tests.support.scenarios import collecting, outbox_documents, samira_pushed, without_time

CARITAS = Actor.api("caritas", "t1")
JOBCENTER = Actor.api("jobcenter", "t2")


def transfers(hub: Hub) -> list[tuple[str, str]]:
    with hub.sessions() as session:
        return [(t.recipient_source, t.kind) for t in session.execute(select(Transfer).order_by(Transfer.id)).scalars()]


def entries(hub: Hub, action: str) -> list[AuditEntry]:
    with hub.sessions() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_a_collecting_body_gets_what_an_outbox_body_gets_with_stable_ids(hub: Hub, tmp_path: Path) -> None:
    twin = samira_pushed(Hub.create(tmp_path / "twin", sqlite_url(tmp_path / "twin.db")))  # the same, by outbox
    try:
        samira_pushed(collecting(hub, "caritas", "jobcenter"))
        for body, actor in (("caritas", CARITAS), ("jobcenter", JOBCENTER)):
            collected = documents_for(hub.home, body, actor=actor)
            expected = outbox_documents(twin, body)
            assert len(expected) == 1 and [without_time(c.document) for c in collected] == [without_time(e) for e in expected]
            assert outbox_documents(hub, body) == []  # no files for a collecting body
            again = documents_for(hub.home, body, actor=actor)
            hub.push(TODAY)  # planned again (nothing acknowledged yet), still the same document
            after_push = documents_for(hub.home, body, actor=actor)
            assert [(c.id, c.cursor, c.document) for c in collected] == [(c.id, c.cursor, c.document) for c in again]
            assert [(c.id, c.document) for c in after_push] == [(c.id, c.document) for c in collected]
            assert documents_for(hub.home, body, since=collected[-1].cursor, actor=actor) == []
        assert documents_for(hub.home, "jobcenter", actor=JOBCENTER)[0].document["record_id"] == "962D000001"
        with hub.sessions() as session:  # the database holds the job centre's token, never the Kundennummer
            held = json.dumps([row.document for row in session.execute(select(HeldDocument)).scalars()])
        assert "962D000001" not in held and hub.stored_id("jobcenter", "962D000001") in held
        assert transfers(hub) == []  # nothing is a transfer before the body acknowledges it
    finally:
        twin.close()


def test_acknowledging_records_the_transfer_and_notices_follow_from_it(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas"))
    [summary] = documents_for(hub.home, "caritas", actor=CARITAS)
    result = acknowledge(hub.home, "caritas", [summary.id], CARITAS)
    assert (result.acknowledged, result.already_acknowledged, result.refused) == (1, 0, ())
    assert sorted(transfers(hub)) == [("caritas", "summary"), ("jobcenter", "summary")]
    again = acknowledge(hub.home, "caritas", [summary.id], CARITAS)  # idempotent
    assert (again.acknowledged, again.already_acknowledged) == (0, 1) and len(transfers(hub)) == 2
    assert hub.push(TODAY).documents_held == {"caritas": 0}  # sent: nothing new is held
    assert documents_for(hub.home, "caritas", actor=CARITAS) == []

    hub.drop("jobcenter", "j2.csv", exchange_csv(person_at("962D000001", withdrawn="2026-11-24", updated="2026-11-24")))
    hub.sync()
    hub.push(TODAY)
    [notice] = documents_for(hub.home, "caritas", actor=CARITAS)
    assert notice.kind == "withdrawal" and notice.document["record_id"] == "C-1" and notice.id != summary.id
    acknowledge(hub.home, "caritas", [notice.id], CARITAS)
    assert transfers(hub)[-1] == ("caritas", "withdrawal")
    entry = entries(hub, "transfer.withdrawal_notice")[-1]
    assert entry.actor == "api:caritas:t1" and entry.channel == "transfer"


def test_without_acknowledgement_a_withdrawal_takes_the_summary_back_and_sends_no_notice(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas"))
    with hub.sessions() as session:
        assert session.execute(select(HeldDocument.kind)).scalars().all() == ["summary"]
    hub.drop("jobcenter", "j2.csv", exchange_csv(person_at("962D000001", withdrawn="2026-11-24", updated="2026-11-24")))
    hub.sync()
    outcome = hub.push(TODAY)
    assert outcome.documents_taken_back == {"caritas": 1}
    assert documents_for(hub.home, "caritas", actor=CARITAS) == []  # consent gone: nothing left to collect
    with hub.sessions() as session:
        assert session.execute(select(HeldDocument)).scalars().all() == []


def test_a_summary_read_then_taken_back_is_still_recorded_when_acknowledged(hub: Hub) -> None:
    """The body has the content once it read it: its late acknowledgement records the transfer,
    so the withdrawal reaches it with the next push."""
    samira_pushed(collecting(hub, "caritas"))
    [summary] = documents_for(hub.home, "caritas", actor=CARITAS)
    hub.drop("jobcenter", "j2.csv", exchange_csv(person_at("962D000001", withdrawn="2026-11-24", updated="2026-11-24")))
    hub.sync()
    hub.push(TODAY)
    assert documents_for(hub.home, "caritas", actor=CARITAS) == []
    with hub.sessions() as session:  # kept without content
        assert [(r.state, r.document) for r in session.execute(select(HeldDocument)).scalars()] == [("superseded", None)]
    assert acknowledge(hub.home, "caritas", [summary.id], CARITAS).acknowledged == 1
    hub.push(TODAY)
    assert [d.kind for d in documents_for(hub.home, "caritas", actor=CARITAS)] == ["withdrawal"]


def test_no_body_reaches_another_bodys_documents(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas", "jobcenter"))
    [theirs] = documents_for(hub.home, "jobcenter", actor=JOBCENTER)
    unknown = "0" * 32
    result = acknowledge(hub.home, "caritas", [theirs.id, unknown, "not-an-id"], CARITAS)
    assert (result.acknowledged, result.refused) == (0, (theirs.id, unknown, "not-an-id"))  # both refused alike
    assert transfers(hub) == []
    with pytest.raises(NotCollectingError):  # a token of caritas asking for the job centre's documents
        documents_for(hub.home, "jobcenter", actor=CARITAS)
    with pytest.raises(NotCollectingError):
        acknowledge(hub.home, "jobcenter", [theirs.id], CARITAS)
    with pytest.raises(NotCollectingError):  # a body that does not collect has nothing to collect
        documents_for(hub.home, "stadt", actor=Actor.api("stadt", "t3"))
    [refusal] = [e for e in entries(hub, "summaries.acknowledge") if e.actor == "api:caritas:t1"]
    assert refusal.detail == {"body": "caritas", "acknowledged": 0, "already": 0, "refused": 3}


def test_every_read_is_audited_with_the_actor_and_the_records_by_token(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas"))
    documents_for(hub.home, "caritas", actor=CARITAS)
    [read] = entries(hub, "summaries.collect")
    assert (read.channel, read.actor, read.detail) == ("read", "api:caritas:t1", {"body": "caritas", "documents": 1})
    assert read.purpose and len(read.objects) == 2  # the recipient record and the record it drew on
    assert all(o.startswith("record:") and "C-1" not in o for o in read.objects)


def test_an_erasure_takes_the_held_documents_with_it(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas", "jobcenter"))
    assert erase(hub.home, hub.sessions, "caritas", "C-1").records_erased == 1
    assert documents_for(hub.home, "caritas", actor=CARITAS) == []  # addressed to the erased record
    assert documents_for(hub.home, "jobcenter", actor=JOBCENTER) == []  # drawn from it
    with hub.sessions() as session:
        assert session.execute(select(HeldDocument)).scalars().all() == []
