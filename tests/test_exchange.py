"""Consent-bound exchange: each body gets the others' facts under its own id, only as far as
consent reaches; withdrawal stops everything and is announced, and so does a death the authority
reports (whatever message follows it); a death or a departure from Germany takes the person off
the coordinators' worklists; the authority stays inbound-only unless both switches are on; re-runs send nothing new;
every transfer is audited."""

from __future__ import annotations

import csv
import json

import pytest
import responses
from sqlalchemy import select

from kim_hub.exchange.consent import ConsentPolicy, granted_categories, may_receive
from kim_hub.exchange.gaps import Gap
from kim_hub.exchange.push_plan import NOTICES
from kim_hub.exchange.transitions import Transition
from kim_hub.hub_db.models import AuditEntry, Transfer
from kim_hub.mappings.case_summary import CONSENT_CATEGORIES
from kim_hub.pipeline.push import PushOutcome
from kim_hub.pipeline.worklists import chain_gaps, rechtskreis_transitions
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv, person_at


def samira_exchanged(hub: Hub) -> None:
    """Samira at caritas and the job centre, both consenting to kim, linked and pushed once."""
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()
    hub.push(TODAY)


def jobcentre_file(hub: Hub, kind: str) -> str:
    """The name of the job centre's outbox document of this kind for Samira: named by the hub's
    token of her Kundennummer (the document inside names the Kundennummer itself)."""
    return f"{hub.stored_id('jobcenter', '962D000001')}.{kind}.json"


def summaries(hub: Hub, source: str) -> dict[str, dict]:
    """The JSON files in the source's summaries outbox, by name."""
    folder = hub.home.outbox(source, "summaries")
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.exists() else {}


def test_both_bodies_receive_each_others_summary_under_their_own_ids(hub: Hub) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001", status="assessment")))
    hub.sync()
    outcome = hub.push(TODAY)
    assert outcome.summaries_sent == 2
    to_caritas = summaries(hub, "caritas")["C-1.summary.json"]
    to_jobcenter = summaries(hub, "jobcenter")[jobcentre_file(hub, "summary")]
    assert to_caritas["record_id"] == "C-1" and to_jobcenter["record_id"] == "962D000001"
    assert [c["body"] for c in to_caritas["cases_elsewhere"]] == ["jobcenter"]
    assert [c["body"] for c in to_jobcenter["cases_elsewhere"]] == ["caritas"]
    text = json.dumps(to_caritas) + json.dumps(to_jobcenter)
    assert "962D000001" not in json.dumps(to_caritas) and "Haddad" not in text and "1988" not in text

    again = hub.push(TODAY)
    assert (again.summaries_sent, again.unchanged) == (0, 2)
    with hub.sessions() as session:
        assert len(session.execute(select(Transfer)).scalars().all()) == 2
        assert len(session.execute(select(AuditEntry).where(AuditEntry.action == "transfer.summary")).scalars().all()) == 2


def test_withdrawal_stops_transfers_and_sends_one_notice(hub: Hub) -> None:
    samira_exchanged(hub)
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", withdrawn="2026-11-24", updated="2026-11-24")))
    hub.sync()
    outcome = hub.push(TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)
    assert jobcentre_file(hub, "withdrawal") in summaries(hub, "jobcenter")
    assert hub.push(TODAY).withdrawal_notices == 0  # once


def meldung(kind: str, on: str, number: int = 1, time: str = "08:00:00", status: str = "") -> str:
    """One schema 1.1 message about Samira (6-digit nationality code); ``status``: a residence status."""
    residence = f'<aufenthalt><status code="{status}" gueltigAb="{on}"/></aufenthalt>' if status else ""
    return f"""<meldung nachrichtUUID="00000000-0000-4000-8000-{number:012x}" typ="{kind}" zeitpunkt="{on}T{time}"><person>
<azrNummer>200000000042</azrNummer><name><familienname>HADDAD</familienname><vornamen>SAMIRA</vornamen></name>
<geburtsdatum><datum>1988-03-14</datum></geburtsdatum><geschlecht code="w"/><staatsangehoerigkeit code="000475"/>
<anschrift><strasse>Testweg</strasse><hausnummer>1</hausnummer><postleitzahl>51373</postleitzahl></anschrift></person>{residence}</meldung>
"""


def authority_file(*messages: str, created: str = "2026-11-24") -> bytes:
    """A schema 1.1 message file, as the authority sends it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<abhMeldungen xmlns="urn:kim-hub:abh:1" erstellt="{created}T23:00:00" behoerde="000000" anzahl="{len(messages)}" version="1.1">
{"".join(messages)}</abhMeldungen>
""".encode()


def authority_message(kind: str, on: str = "2026-11-24", number: int = 0xA1) -> bytes:
    """A file of one schema 1.1 message about Samira."""
    return authority_file(meldung(kind, on, number), created=on)


def deliver_authority(hub: Hub, kind: str, on: str = "2026-11-24", number: int = 0xA1) -> None:
    hub.drop("abh", f"ABH_{kind}_{on}.xml", authority_message(kind, on, number))


def outbox_rows(hub: Hub, body: str) -> list[dict[str, str]]:
    """The rows of every summaries table in the body's outbox."""
    folder = hub.home.outbox(body, "summaries")
    return [row for p in sorted(folder.glob("*.csv")) for row in csv.DictReader(p.open(encoding="utf-8"))]


def test_a_reported_death_stops_summaries_and_tells_each_earlier_recipient_once(hub: Hub) -> None:
    samira_exchanged(hub)
    deliver_authority(hub, "tod")
    # news that would be sent
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", status="paused", updated="2026-11-24")))
    hub.sync()
    assert one_person(hub)
    outcome = hub.push(TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)
    for body, record_id in (("caritas", "C-1"), ("jobcenter", "962D000001")):
        notice = summaries(hub, body)[f"{hub.stored_id(body, record_id)}.withdrawal.json"]
        assert notice["notice"] == NOTICES["death"] and notice["record_id"] == record_id
        assert not any(
            value in json.dumps(notice) for value in ("HADDAD", "Haddad", "SAMIRA", "1988", "200000000042", "2026-11-24")
        )
    assert NOTICES["death"] != NOTICES["withdrawal"]
    # what was sent before and not yet collected is taken back: nobody collects a summary about the dead
    assert "C-1.summary.json" not in summaries(hub, "caritas") and "962D000001.summary.json" not in summaries(hub, "jobcenter")
    assert [row["kind"] for row in outbox_rows(hub, "caritas") + outbox_rows(hub, "jobcenter")] == ["withdrawal", "withdrawal"]
    again = hub.push(TODAY)
    assert (again.summaries_sent, again.withdrawal_notices) == (0, 0)  # once, and nothing after
    with hub.sessions() as session:
        audited = session.execute(select(AuditEntry).where(AuditEntry.action == "transfer.withdrawal_notice")).scalars().all()
    assert len(audited) == 2 and "200000000042" not in json.dumps([(e.detail, e.objects) for e in audited])


def test_a_death_before_any_summary_sends_nothing_at_all(hub: Hub) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    deliver_authority(hub, "tod")
    hub.sync()
    assert one_person(hub)
    outcome = hub.push(TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 0)
    assert not summaries(hub, "caritas") and not summaries(hub, "jobcenter")


def death_notices_only(outcome: PushOutcome) -> bool:
    """Both bodies told of the death once, nothing else sent."""
    return (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 2)


def test_a_correction_after_a_death_does_not_bring_the_summaries_back(hub: Hub) -> None:
    """The record keeps only its latest message; the death is in its history and stays decisive."""
    samira_exchanged(hub)
    deliver_authority(hub, "tod", "2026-11-20")
    hub.sync()
    assert death_notices_only(hub.push(TODAY))
    deliver_authority(hub, "berichtigung", "2026-11-22", number=0xA2)
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", status="paused", updated="2026-11-24")))  # news
    hub.sync()
    assert one_person(hub)
    outcome = hub.push(TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (0, 0)
    assert "C-1.summary.json" not in summaries(hub, "caritas")


def test_a_death_reported_after_a_later_message_still_stops_every_summary(hub: Hub) -> None:
    """A message older than the one held changes no fact of the record, but its event is history."""
    samira_exchanged(hub)
    deliver_authority(hub, "berichtigung", "2026-11-22", number=0xA2)
    hub.sync()
    hub.push(TODAY)
    deliver_authority(hub, "tod", "2026-11-20")  # delivered late
    hub.sync()
    assert one_person(hub)
    assert death_notices_only(hub.push(TODAY))


def test_a_death_followed_by_a_correction_in_the_same_file_is_still_a_death(hub: Hub) -> None:
    """The file's latest message about the person is the one kept; the earlier one's event is not lost."""
    samira_exchanged(hub)
    hub.drop(
        "abh",
        "ABH_20261124.xml",
        authority_file(meldung("tod", "2026-11-24"), meldung("berichtigung", "2026-11-24", 2, "10:00:00")),
    )
    hub.sync()
    assert one_person(hub)
    assert death_notices_only(hub.push(TODAY))


def recognised_then(hub: Hub, *reports: tuple[str, str]) -> tuple[list[Gap], list[Transition]]:
    """Samira, recognised as a refugee in September, then each report (kind, day) in a file of its
    own; the worklists as they stand after that. She consented to KIM at caritas, where no case
    runs: the authority's messages alone (a statute for linkage only) would list her nowhere."""
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1", status="closed")))
    hub.drop("abh", "ABH_1.xml", authority_file(meldung("statusaenderung", "2026-09-20", status="AE_25_2_GFK")))
    hub.ingest("abh")
    for number, (kind, on) in enumerate(reports, start=2):
        hub.drop("abh", f"ABH_{number}.xml", authority_file(meldung(kind, on, number), created=on))
        hub.ingest("abh")
    hub.sync()
    return chain_gaps(hub.home, TODAY), rechtskreis_transitions(hub.home)


def listed(worklists: tuple[list[Gap], list[Transition]]) -> tuple[list[str], list[str]]:
    gaps, transitions = worklists
    return [gap.trigger for gap in gaps], [f"{t.kind}:{t.after}" for t in transitions]


RECOGNITION_LISTED = (["recognised"], ["statusaenderung:AE_25_2_GFK"])


def test_a_recognition_without_a_case_is_on_both_worklists(hub: Hub) -> None:
    assert listed(recognised_then(hub)) == RECOGNITION_LISTED


@pytest.mark.parametrize("kind", ["tod", "ausreise"])
def test_a_death_or_a_departure_from_germany_takes_the_person_off_the_worklists(hub: Hub, kind: str) -> None:
    assert listed(recognised_then(hub, (kind, "2026-11-20"))) == ([], [])


def test_a_return_after_a_departure_puts_the_person_back_with_their_history(hub: Hub) -> None:
    assert listed(recognised_then(hub, ("ausreise", "2026-10-20"), ("zuzug", "2026-11-20"))) == RECOGNITION_LISTED


@pytest.mark.parametrize("kind", ["zustaendigkeitswechsel", "wegzug"])
def test_a_move_inside_germany_keeps_the_person_on_the_worklists(hub: Hub, kind: str) -> None:
    """As for wegzug: the thread breaks most often where a person moves, so the gap still shows."""
    assert listed(recognised_then(hub, (kind, "2026-11-20"))) == RECOGNITION_LISTED


def one_person(hub: Hub) -> bool:
    """Are all stored records (the authority's message among them) linked to one person?"""
    from kim_hub.hub_db.models import Link

    with hub.sessions() as session:
        return len(set(session.execute(select(Link.person_id)).scalars())) == 1


@pytest.mark.parametrize("kind", ["ausreise", "zustaendigkeitswechsel"])
def test_leaving_germany_or_the_authority_closes_its_case_but_the_exchange_goes_on(hub: Hub, kind: str) -> None:
    samira_exchanged(hub)
    deliver_authority(hub, kind)
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", status="paused", updated="2026-11-24")))
    hub.sync()
    assert one_person(hub)
    outcome = hub.push(TODAY)
    assert (outcome.summaries_sent, outcome.withdrawal_notices) == (1, 0)  # caritas' news still reaches the job centre
    assert summaries(hub, "jobcenter")[jobcentre_file(hub, "summary")]["cases_elsewhere"][0]["status"] == "paused"


def test_no_consent_no_transfer(hub: Hub) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1", consent="")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001", consent="")))
    hub.sync()
    outcome = hub.push(TODAY)
    assert outcome.summaries_sent == 0 and not summaries(hub, "caritas") and not summaries(hub, "jobcenter")


def test_the_authority_receives_only_with_route_open_and_explicit_consent(hub: Hub) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1", consent="kim|abh")))
    hub.drop("abh", "a.csv", exchange_csv(person_at("ABH-1")))
    hub.sync()
    hub.push(TODAY)
    assert not summaries(hub, "abh")  # route closed
    hub.config.exchange.authority_route_open = True
    hub.push(TODAY)
    assert "ABH-1.summary.json" in summaries(hub, "abh")


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


def test_a_split_sends_a_correction_to_who_got_data_under_the_wrong_link(hub: Hub) -> None:
    from kim_hub.hub_db.master_index import LinkPolicy
    from kim_hub.hub_db.models import ReviewItem, SourceRecord
    from kim_hub.hub_db.review import decide

    samira_exchanged(hub)
    with hub.sessions() as session, session.begin():  # a coordinator finds they are two people
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        item = ReviewItem(record_a=ids["C-1"], record_b=ids[hub.stored_id("jobcenter", "962D000001")], score=0.9, evidence={})
        session.add(item)
    with hub.sessions() as session, session.begin():
        decide(session, item.id, "different", LinkPolicy())
    outcome = hub.push(TODAY)
    assert outcome.corrections == 2 and outcome.summaries_sent == 0
    assert "C-1.correction.json" in summaries(hub, "caritas")
    assert jobcentre_file(hub, "correction") in summaries(hub, "jobcenter")
    assert hub.push(TODAY).corrections == 0  # once


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
def test_a_body_with_an_api_is_pulled_from_and_pushed_to_and_a_failed_push_is_retried(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kim_hub.pipeline.home import SourceConfig

    monkeypatch.setenv("KIM_TEST_CARITAS_TOKEN", "t0ken-for-tests")
    hub.config.sources["caritas"] = SourceConfig(
        connectors=["rest"], options={"base_url": API, "token_env": "KIM_TEST_CARITAS_TOKEN", "max_retries": "0"}
    )
    responses.add(responses.GET, f"{API}/cases", json={"items": [CARITAS_BY_API], "next_cursor": None})
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001", status="assessment")))
    hub.sync()

    responses.add(responses.POST, f"{API}/summaries", status=503)
    first = hub.push(TODAY)
    assert list(first.failed) == ["caritas"] and first.summaries_sent == 1  # the job centre is not held up
    to_jobcenter = summaries(hub, "jobcenter")[jobcentre_file(hub, "summary")]
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
    second = hub.push(TODAY)
    assert (second.summaries_sent, second.unchanged, second.failed) == (1, 1, {})
    assert [(d["kind"], d["record_id"]) for d in received] == [("summary", "C-1")]
    assert "962D000001" not in json.dumps(received) and "Haddad" not in json.dumps(received)
    assert not summaries(hub, "caritas")  # an API body gets no files
    assert hub.push(TODAY).summaries_sent == 0

    with hub.sessions() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "transfer.summary")).scalars().all()
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


@responses.activate
def test_a_document_the_api_refuses_as_not_unicode_is_not_recorded_and_holds_up_no_one(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kim_hub.pipeline import push
    from kim_hub.pipeline.home import SourceConfig

    monkeypatch.setenv("KIM_TEST_CARITAS_TOKEN", "t0ken-for-tests")
    hub.config.sources["caritas"] = SourceConfig(
        connectors=["rest"], options={"base_url": API, "token_env": "KIM_TEST_CARITAS_TOKEN", "max_retries": "0"}
    )
    responses.add(responses.GET, f"{API}/cases", json={"items": [CARITAS_BY_API], "next_cursor": None})
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001", status="assessment")))
    hub.sync()
    responses.add(responses.POST, f"{API}/summaries", json={"accepted": 1})
    planned = push.plan_deliveries

    def with_a_lone_surrogate_for_caritas(*args, **kwargs):  # no stored value can hold one: made up here
        plan = planned(*args, **kwargs)
        for delivery in plan.by_body().get("caritas", []):
            delivery.document["note"] = "Zyxwvutsrq\ud800"
        return plan

    monkeypatch.setattr(push, "plan_deliveries", with_a_lone_surrogate_for_caritas)
    first = hub.push(TODAY)

    assert first.documents_refused == {"caritas": 1} and first.failed == {}
    assert first.summaries_sent == 1 and jobcentre_file(hub, "summary") in summaries(
        hub, "jobcenter"
    )  # the job centre is not held up
    assert not [call for call in responses.calls if call.request.method == "POST"]  # nothing else was due for caritas
    with hub.sessions() as session:
        assert session.execute(select(Transfer.recipient_source)).scalars().all() == ["jobcenter"]  # no transfer for the refused

    monkeypatch.setattr(push, "plan_deliveries", planned)
    second = hub.push(TODAY)
    assert (second.summaries_sent, second.failed) == (1, {})  # planned again, and sent once it can be


def test_erasure_takes_back_outbox_files_and_notifies_who_received_the_data(hub: Hub) -> None:
    from kim_hub.pipeline.erasure import erase

    samira_exchanged(hub)
    assert erase(hub.home, hub.sessions, "caritas", "C-1").records_erased == 1
    caritas_outbox = hub.home.outbox("caritas", "summaries")
    assert not any("C-1" in p.read_text() for p in caritas_outbox.iterdir())  # nothing addressed to it is left

    outcome = hub.push(TODAY)
    assert (outcome.erasure_notices, outcome.summaries_sent) == (1, 0)
    to_jobcenter = summaries(hub, "jobcenter")
    assert jobcentre_file(hub, "erasure") in to_jobcenter and jobcentre_file(hub, "summary") not in to_jobcenter  # taken back
    rows = [
        row for p in hub.home.outbox("jobcenter", "summaries").glob("*.csv") for row in csv.DictReader(p.open(encoding="utf-8"))
    ]
    assert [row["kind"] for row in rows] == ["erasure"]  # the earlier summary row is taken back too
    with hub.sessions() as session:
        details = [(e.detail, e.objects) for e in session.execute(select(AuditEntry)).scalars()]
    assert "C-1" not in json.dumps(details)
    assert hub.push(TODAY).erasure_notices == 0  # once
