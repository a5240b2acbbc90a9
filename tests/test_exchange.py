"""Consent-bound exchange: each body gets the others' facts under its own id, only as far as
consent reaches; withdrawal stops everything and is announced; the authority stays inbound-only
unless both switches are on; re-runs send nothing new; every transfer is audited."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from sqlalchemy import select

from exchange.consent import may_receive
from flows.ingest import ingest_source, link_index
from flows.push import push_all
from hub_db.models import AuditEntry, Transfer

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,consent_recipients,consent_withdrawn,updated_at\n"
TODAY = dt.date(2026, 11, 25)


def deliver(home, source: str, name: str, row: str) -> None:
    path = home.inbox(source) / name
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))


def person_at(record_id: str, consent: str = "kim", withdrawn: str = "", status: str = "active", updated: str = "2026-11-20") -> str:
    return f"{record_id},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,{status},2026-01-15,{consent},{withdrawn},{updated}"


def sync(hub) -> None:
    home, config, sessions, keys = hub
    for source in config.sources:
        ingest_source(home, config, source, keys, sessions)
    link_index(sessions, config)


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
    deliver(home, "caritas", "c.csv", person_at("C-1"))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001"))
    sync(hub)
    push_all(home, config, sessions, TODAY)
    deliver(home, "caritas", "c2.csv", person_at("C-1", withdrawn="2026-11-24", updated="2026-11-24"))
    sync(hub)
    outcome = push_all(home, config, sessions, TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)
    assert "962D000001.withdrawal.json" in summaries(home, "jobcenter")
    assert push_all(home, config, sessions, TODAY).withdrawal_notices == 0  # once


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
    assert not may_receive({"recipients": ["kim"]}, "abh", TODAY, authority_route_open=True)  # kim is not enough
    assert not may_receive({"recipients": ["abh"]}, "abh", TODAY, authority_route_open=False)
    assert may_receive({"recipients": ["abh"]}, "abh", TODAY, authority_route_open=True)
    assert not may_receive({"recipients": ["kim"], "valid_until": "2026-11-24"}, "awo", TODAY)
    assert may_receive({"recipients": ["awo"]}, "awo", TODAY) and not may_receive({"recipients": ["awo"]}, "stadt", TODAY)


def test_a_split_sends_a_correction_to_who_got_data_under_the_wrong_link(hub) -> None:
    from hub_db.master_index import LinkPolicy
    from hub_db.models import ReviewItem, SourceRecord
    from hub_db.review import decide

    home, config, sessions, keys = hub
    deliver(home, "caritas", "c.csv", person_at("C-1"))
    deliver(home, "jobcenter", "j.csv", person_at("962D000001"))
    sync(hub)
    push_all(home, config, sessions, TODAY)
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
