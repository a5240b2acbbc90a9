"""Consent-bound exchange: each body gets the others' facts under its own id, only as far as
consent reaches; withdrawal stops everything and is announced, and so does a death the authority
reports; the authority stays inbound-only unless both switches are on; re-runs send nothing new;
every transfer is audited."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import time

import pytest
import responses
from sqlalchemy import select

from kim_hub.exchange.consent import ConsentPolicy, granted_categories, may_receive
from kim_hub.exchange.push_plan import NOTICES
from kim_hub.hub_db.models import AuditEntry, Transfer
from kim_hub.mappings.case_summary import CONSENT_CATEGORIES
from kim_hub.pipeline.ingest import ingest_source
from kim_hub.pipeline.linking import link_index
from kim_hub.pipeline.push import push_all

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,consent_recipients,consent_withdrawn,updated_at\n"
TODAY = dt.date(2026, 11, 25)


def deliver(home, source: str, name: str, row: str) -> None:
    path = home.inbox(source) / name
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))


def person_at(
    record_id: str, consent: str = "kim", withdrawn: str = "", status: str = "active", updated: str = "2026-11-20"
) -> str:
    return f"{record_id},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,{status},2026-01-15,{consent},{withdrawn},{updated}"


def sync(hub) -> None:
    home, config, sessions, keys = hub
    for source in config.sources:
        ingest_source(home, config, source, keys, sessions)
    link_index(sessions, config)


def samira_exchanged(hub) -> None:
    """Samira at caritas and the job centre, both consenting to kim, linked and pushed once."""
    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1"))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001"))
    sync(hub)
    push_all(home, config, sessions, TODAY)


def summaries(home, source: str) -> dict[str, dict]:
    folder = home.path / "outbox" / source / "summaries"
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.exists() else {}


def test_both_bodies_receive_each_others_summary_under_their_own_ids(hub) -> None:
    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1"))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001", status="assessment"))
    sync(hub)
    outcome = push_all(home, config, sessions, TODAY)
    assert outcome.summaries_sent == 2
    to_caritas = summaries(home, "caritas")["C-1.summary.json"]
    to_jobcenter = summaries(home, "jobcenter")["962D000001.summary.json"]
    assert to_caritas["record_id"] == "C-1" and to_jobcenter["record_id"] == "962D000001"
    assert [c["body"] for c in to_caritas["cases_elsewhere"]] == ["jobcenter"]
    assert [c["body"] for c in to_jobcenter["cases_elsewhere"]] == ["caritas"]
    text = json.dumps(to_caritas) + json.dumps(to_jobcenter)
    assert "962D000001" not in json.dumps(to_caritas) and "Haddad" not in text and "1988" not in text

    again = push_all(home, config, sessions, TODAY)
    assert (again.summaries_sent, again.unchanged) == (0, 2)
    with sessions() as session:
        assert len(session.execute(select(Transfer)).scalars().all()) == 2
        assert len(session.execute(select(AuditEntry).where(AuditEntry.kind == "transfer")).scalars().all()) == 2


def test_withdrawal_stops_transfers_and_sends_one_notice(hub) -> None:
    home, config, sessions, keys = hub
    samira_exchanged(hub)
    deliver(home, "caritas", "c2.csv", person_at("C-1", withdrawn="2026-11-24", updated="2026-11-24"))
    sync(hub)
    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)
    assert "962D000001.withdrawal.json" in summaries(home, "jobcenter")
    assert push_all(home, config, sessions, TODAY).withdrawal_notices == 0  # once


def authority_message(kind: str, on: str = "2026-11-24") -> bytes:
    """A schema 1.1 message file about Samira (6-digit nationality code), as the authority sends it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<abhMeldungen xmlns="urn:kim-hub:abh:1" erstellt="{on}T23:00:00" behoerde="000000" anzahl="1" version="1.1">
<meldung nachrichtUUID="00000000-0000-4000-8000-0000000000a1" typ="{kind}" zeitpunkt="{on}T08:00:00"><person>
<azrNummer>200000000042</azrNummer><name><familienname>HADDAD</familienname><vornamen>SAMIRA</vornamen></name>
<geburtsdatum><datum>1988-03-14</datum></geburtsdatum><geschlecht code="w"/><staatsangehoerigkeit code="000475"/>
<anschrift><strasse>Testweg</strasse><hausnummer>1</hausnummer><postleitzahl>51373</postleitzahl></anschrift></person></meldung>
</abhMeldungen>
""".encode()


def deliver_authority(home, kind: str) -> None:
    path = home.inbox("abh") / f"ABH_{kind}.xml"
    path.write_bytes(authority_message(kind))
    past = time.time() - 60
    os.utime(path, (past, past))


def test_a_reported_death_stops_summaries_and_tells_each_earlier_recipient_once(hub) -> None:
    home, config, sessions, keys = hub
    samira_exchanged(hub)
    deliver_authority(home, "tod")
    deliver(home, "caritas", "c2.csv", person_at("C-1", status="paused", updated="2026-11-24"))  # news that would be sent
    sync(hub)
    assert one_person(sessions)
    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)
    for body, record_id in (("caritas", "C-1"), ("jobcenter", "962D000001")):
        notice = summaries(home, body)[f"{record_id}.withdrawal.json"]
        assert notice["notice"] == NOTICES["death"] and notice["record_id"] == record_id
        assert not any(
            value in json.dumps(notice) for value in ("HADDAD", "Haddad", "SAMIRA", "1988", "200000000042", "2026-11-24")
        )
    assert NOTICES["death"] != NOTICES["withdrawal"]
    again = push_all(home, config, sessions, TODAY)
    assert (again.summaries_sent, again.withdrawal_notices) == (0, 0)  # once, and nothing after
    with sessions() as session:
        audited = session.execute(select(AuditEntry).where(AuditEntry.kind == "withdrawal_notice")).scalars().all()
    assert len(audited) == 2 and "200000000042" not in json.dumps([e.detail for e in audited])


def test_a_death_before_any_summary_sends_nothing_at_all(hub) -> None:
    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1"))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001"))
    deliver_authority(home, "tod")
    sync(hub)
    assert one_person(sessions)
    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 0)
    assert not summaries(home, "caritas") and not summaries(home, "jobcenter")


def one_person(sessions) -> bool:
    """Are all stored records (the authority's message among them) linked to one person?"""
    from kim_hub.hub_db.models import Link

    with sessions() as session:
        return len(set(session.execute(select(Link.person_id)).scalars())) == 1


@pytest.mark.parametrize("kind", ["ausreise", "zustaendigkeitswechsel"])
def test_leaving_germany_or_the_authority_closes_its_case_but_the_exchange_goes_on(hub, kind: str) -> None:
    home, config, sessions, keys = hub
    samira_exchanged(hub)
    deliver_authority(home, kind)
    deliver(home, "caritas", "c2.csv", person_at("C-1", status="paused", updated="2026-11-24"))
    sync(hub)
    assert one_person(sessions)
    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (1, 0)  # caritas' news still reaches the job centre
    assert summaries(home, "jobcenter")["962D000001.summary.json"]["cases_elsewhere"][0]["status"] == "paused"


def test_no_consent_no_transfer(hub) -> None:
    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1", consent=""))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001", consent=""))
    sync(hub)
    outcome = push_all(home, config, sessions, TODAY)
    assert outcome.summaries_sent == 0 and not summaries(home, "caritas") and not summaries(home, "jobcenter")


def test_the_authority_receives_only_with_route_open_and_explicit_consent(hub) -> None:
    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1", consent="kim|abh"))
    deliver(home, "abh", "a.csv", person_at("ABH-1"))
    sync(hub)
    push_all(home, config, sessions, TODAY)
    assert not summaries(home, "abh")  # route closed
    config.exchange.authority_route_open = True
    push_all(home, config, sessions, TODAY)
    assert "ABH-1.summary.json" in summaries(home, "abh")


def test_consent_rule_details() -> None:
    closed, open_route = ConsentPolicy(TODAY), ConsentPolicy(TODAY, authority_route_open=True)
    assert not may_receive({"recipients": ["kim"]}, "abh", open_route)  # kim is not enough
    assert not may_receive({"recipients": ["abh"]}, "abh", closed)
    assert may_receive({"recipients": ["abh"]}, "abh", open_route)
    assert not may_receive({"recipients": ["kim"], "valid_until": "2026-11-24"}, "awo", closed)
    assert not may_receive({"recipients": ["kim"], "valid_from": "2026-11-26"}, "awo", closed)  # not yet
    assert may_receive({"recipients": ["awo"]}, "awo", closed) and not may_receive({"recipients": ["awo"]}, "stadt", closed)
    assert not may_receive({"recipients": ["kim"], "purpose": "research"}, "awo", closed)  # another purpose
    assert may_receive({"recipients": ["kim"], "purpose": "KIM"}, "awo", closed)
    assert granted_categories({"recipients": ["kim"]}, "awo", closed) == set(CONSENT_CATEGORIES)  # none listed: all
    assert granted_categories({"recipients": ["kim"], "categories": ["case"]}, "awo", closed) == {"case"}


def test_a_split_sends_a_correction_to_who_got_data_under_the_wrong_link(hub) -> None:
    from kim_hub.hub_db.master_index import LinkPolicy
    from kim_hub.hub_db.models import ReviewItem, SourceRecord
    from kim_hub.hub_db.review import decide

    home, config, sessions, keys = hub
    samira_exchanged(hub)
    with sessions() as session, session.begin():  # a coordinator finds they are two people
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        item = ReviewItem(record_a=ids["C-1"], record_b=ids["962D000001"], score=0.9, evidence={})
        session.add(item)
    with sessions() as session, session.begin():
        decide(session, item.id, "different", LinkPolicy())
    outcome = push_all(home, config, sessions, TODAY)
    assert outcome.corrections == 2 and outcome.summaries_sent == 0
    assert "C-1.correction.json" in summaries(home, "caritas")
    assert "962D000001.correction.json" in summaries(home, "jobcenter")
    assert push_all(home, config, sessions, TODAY).corrections == 0  # once


API = "http://localhost:8765/kim/v1"
CARITAS_BY_API = {
    "record_id": "C-1",
    "family_name": "Haddad",
    "given_names": "Samira",
    "birth_date": "1988-03-14",
    "sex": "F",
    "nationality": "SYR",
    "street": "Testweg 1",
    "postcode": "51373",
    "case_status": "active",
    "case_opened": "2026-01-15",
    "goals": {"sprache": "active"},
    "referrals": {"sprachkurs": "open"},
    "consent_recipients": ["kim"],
    "consent_categories": ["identity", "case"],
    "consent_evidence": "EW-2026-17",
    "updated_at": "2026-11-20T10:00:00+01:00",
}


@responses.activate
def test_a_body_with_an_api_is_pulled_from_and_pushed_to_and_a_failed_push_is_retried(hub, monkeypatch) -> None:
    from kim_hub.pipeline.home import SourceConfig

    home, config, sessions, keys = hub
    monkeypatch.setenv("KIM_TEST_CARITAS_TOKEN", "t0ken-for-tests")
    config.sources["caritas"] = SourceConfig(
        connectors=["rest"], options={"base_url": API, "token_env": "KIM_TEST_CARITAS_TOKEN", "max_retries": "0"}
    )
    responses.add(responses.GET, f"{API}/cases", json={"items": [CARITAS_BY_API], "next_cursor": None})
    deliver(home, "jobcenter", "j.csv", person_at("962D000001", status="assessment"))
    sync(hub)

    responses.add(responses.POST, f"{API}/summaries", status=503)
    first = push_all(home, config, sessions, TODAY)
    assert list(first.failed) == ["caritas"] and first.summaries_sent == 1  # the job centre is not held up
    to_jobcenter = summaries(home, "jobcenter")["962D000001.summary.json"]
    # caritas consented to identity and case only: its case shows, its referral does not
    assert to_jobcenter["cases_elsewhere"] == [
        {
            "body": "caritas",
            "since": "2026-01-15",
            "closed": None,
            "status": "active",
            "goals": {"sprache": "active"},
            "active": True,
        }
    ]
    assert to_jobcenter["open_referrals"] == [] and to_jobcenter["categories"] == ["case", "identity"]

    received: list[dict] = []

    def accept(request):
        body = json.loads(request.body)
        received.extend(body["summaries"])
        return 200, {}, json.dumps({"accepted": len(body["summaries"])})

    responses.remove(responses.POST, f"{API}/summaries")  # the API is back
    responses.add_callback(responses.POST, f"{API}/summaries", callback=accept)
    second = push_all(home, config, sessions, TODAY)
    assert (second.summaries_sent, second.unchanged, second.failed) == (1, 1, {})
    assert [(d["kind"], d["record_id"]) for d in received] == [("summary", "C-1")]
    assert "962D000001" not in json.dumps(received) and "Haddad" not in json.dumps(received)
    assert not summaries(home, "caritas")  # an API body gets no files
    assert push_all(home, config, sessions, TODAY).summaries_sent == 0

    with sessions() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.kind == "transfer")).scalars().all()
    to_job = next(e.detail for e in entries if e.detail["recipient"] == "jobcenter")
    assert to_job["categories"] == ["case", "identity"]
    assert to_job["consents"] == [
        {
            "source": "caritas",
            "categories": ["case", "identity"],
            "purpose": "kim",
            "evidence_ref": "EW-2026-17",
            "valid_until": None,
        }
    ]


def test_erasure_takes_back_outbox_files_and_notifies_who_received_the_data(hub) -> None:
    from kim_hub.pipeline.erasure import erase

    home, config, sessions, keys = hub
    samira_exchanged(hub)
    assert erase(home, sessions, "caritas", "C-1").records_erased == 1
    caritas_outbox = home.outbox("caritas", "summaries")
    assert not any("C-1" in p.read_text() for p in caritas_outbox.iterdir())  # nothing addressed to it is left

    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.erasure_notices, outcome.summaries_sent) == (1, 0)
    to_jobcenter = summaries(home, "jobcenter")
    assert "962D000001.erasure.json" in to_jobcenter and "962D000001.summary.json" not in to_jobcenter  # taken back
    rows = [row for p in home.outbox("jobcenter", "summaries").glob("*.csv") for row in csv.DictReader(p.open(encoding="utf-8"))]
    assert [row["kind"] for row in rows] == ["erasure"]  # the earlier summary row is taken back too
    with sessions() as session:
        details = [e.detail for e in session.execute(select(AuditEntry)).scalars()]
    assert "C-1" not in json.dumps(details)
    assert push_all(home, config, sessions, TODAY).erasure_notices == 0  # once
