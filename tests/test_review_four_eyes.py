"""Four eyes in the review (issue 21, item 3): a decision that touches a person whose summaries
already went to another body waits for a second reviewer, and before anyone decides, the pair
shows what each choice would send — exactly what the next push then sends.

One small home per database backend for the whole module (five exchanged persons, each in two
bodies and pushed once, plus three persons nobody was sent anything about); each test works on its
own persons, and compares only the transfers of its own records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kim_hub.cli.main import main
from kim_hub.core.access import Actor
from kim_hub.core.errors import ConfigError
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.decision_effects import Effect, decision_effects
from kim_hub.exchange.push_plan import PreviousTransfer, plan_deliveries
from kim_hub.exchange.summary import HeldRecord
from kim_hub.hub_db.models import AuditEntry, ReviewItem, SourceRecord, Transfer
from kim_hub.pipeline.review import (
    LinkOutcome,
    Pending,
    SecondReviewerError,
    confirm_review,
    decide_review,
    preview_review,
    reject_review,
    review_items,
    undo_review,
)
from kim_hub.pipeline.web_users import add_user
from kim_hub.web.app import create_app
from tests.support import BACKENDS, Hub, postgres_database, sqlite_url
from tests.support.data import EXCHANGE_HEADER, TODAY
from tests.support.files import csv_text

ANNA, DORA = Actor("web", "anna"), Actor("web", "dora")
PASSWORD = "korrekt-Pferd-Batterie"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
PEOPLE = {  # caritas record id: family name, given name, birth date, job-centre record id (None: caritas only)
    "C-1": ("Haddad", "Samira", "1988-03-14", "962D000001"),
    "C-2": ("Rahimi", "Ahmad", "1990-05-02", "962D000002"),
    "C-3": ("Testova", "Marta", "1975-11-02", None),
    "C-4": ("Nowak", "Olena", "1982-07-21", "962D000004"),
    "C-5": ("Demir", "Yusuf", "1979-09-30", "962D000005"),
    "C-6": ("Kaya", "Elif", "1985-04-17", "962D000006"),
    "C-8": ("Berg", "Lina", "1995-02-11", None),
    "C-9": ("Saleh", "Omar", "1969-12-24", None),
}


def row(record_id: str, family: str, given: str, born: str) -> str:
    """An ``EXCHANGE_HEADER`` row consenting to KIM."""
    return f"{record_id},{family},{given},{born},F,SYR,Testweg 1,51373,active,2026-01-15,kim,,2026-11-20"


@pytest.fixture(scope="module", params=BACKENDS)
def sent(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The module's home: everyone ingested, linked and pushed once (TODAY)."""
    folder = tmp_path_factory.mktemp(f"four-eyes-{request.param}")
    if request.param == "sqlite":
        hub = Hub.create(folder / "home", sqlite_url(folder / "hub.db"))
        yield from _filled(hub)
        return
    with postgres_database() as url:
        yield from _filled(Hub.create(folder / "home", url))


def _filled(hub: Hub) -> Iterator[Hub]:
    caritas = [row(cid, family, given, born) for cid, (family, given, born, _jc) in PEOPLE.items()]
    jobcentre = [row(jc, family, given, born) for family, given, born, jc in PEOPLE.values() if jc]
    hub.drop("caritas", "c.csv", csv_text(caritas, EXCHANGE_HEADER))
    hub.drop("jobcenter", "j.csv", csv_text(jobcentre, EXCHANGE_HEADER))
    hub.sync()
    assert hub.push(TODAY).summaries_sent == 2 * 5  # five persons in two bodies
    for name in ("anna", "dora"):
        add_user(hub.home, name, "reviewer", PASSWORD)
    yield hub
    hub.close()


def pk(hub: Hub, source: str, record_id: str) -> int:
    with hub.sessions() as session:
        stored = hub.stored_id(source, record_id)
        query = select(SourceRecord.id).where(SourceRecord.source == source, SourceRecord.record_id == stored)
        return session.execute(query).scalar_one()


def item_for(hub: Hub, a: tuple[str, str], b: tuple[str, str]) -> int:
    """A review item on two stored records (as a linking run leaves an uncertain pair)."""
    with hub.sessions() as session, session.begin():
        item = ReviewItem(record_a=pk(hub, *a), record_b=pk(hub, *b), score=0.6, evidence={"family_name": "same"})
        session.add(item)
    return item.id


def person_of(hub: Hub, source: str, record_id: str) -> str | None:
    return hub.pseudonyms()[(source, hub.stored_id(source, record_id))]


def last_transfer_id(hub: Hub) -> int:
    with hub.sessions() as session:
        return max(session.execute(select(Transfer.id)).scalars(), default=0)


def sent_since(hub: Hub, mark: int, caritas_ids: tuple[str, ...]) -> set[tuple[str, str]]:
    """(body, kind) of the documents sent after ``mark`` to these persons' records in either body."""
    records = {pk(hub, "caritas", cid) for cid in caritas_ids}
    records |= {pk(hub, "jobcenter", PEOPLE[cid][3]) for cid in caritas_ids if PEOPLE[cid][3]}
    with hub.sessions() as session:
        rows = session.execute(
            select(Transfer.recipient_source, Transfer.kind, Transfer.recipient_record).where(Transfer.id > mark)
        )
        return {(body, kind) for body, kind, recipient in rows if recipient in records}


def audit(hub: Hub, action: str, after: int = 0) -> list[AuditEntry]:
    """Entries of ``action`` after the entry ``after`` (an item id can come again on SQLite once
    a linking run removed the item with the highest id: compare only what a test wrote)."""
    with hub.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.id > after).order_by(AuditEntry.id)
        return list(session.execute(query).scalars())


def last_audit_id(hub: Hub) -> int:
    with hub.sessions() as session:
        return max(session.execute(select(AuditEntry.id)).scalars(), default=0)


def as_sent(effects: list) -> set[tuple[str, str]]:
    return {(effect.body, effect.kind) for effect in effects}


# --- the rule, without a database ----------------------------------------------------------------------------


def held(source: str, key: int, **consent: object) -> HeldRecord:
    case = {"residence_status": "AE_25_2_GFK", "case_status": "active", "consent": {"recipients": ["kim"], **consent}}
    return HeldRecord(source, f"{source}-{key}", case, key)


def test_the_effects_are_what_the_push_plan_adds_under_the_decisions_grouping() -> None:
    policy = ConsentPolicy(TODAY)
    c, j = held("caritas", 1), held("jobcenter", 2)
    withdrawn, other = held("awo", 3, withdrawn_at="2026-11-01"), held("stadt", 4)
    sent = {1: PreviousTransfer("summary", "h1", (1, 2)), 2: PreviousTransfer("summary", "h2", (1, 2))}
    sent[3] = PreviousTransfer("summary", "h3", (3, 4))  # a withdrawal is due whatever is decided
    now = {"P-A": [(1, c), (2, j)], "P-B": [(3, withdrawn), (4, other)]}
    due = plan_deliveries(dict(enumerate(now.values())), sent, {1, 2}, policy).deliveries
    assert ("awo", "withdrawal") in [(d.recipient.source, d.kind) for d in due]  # due already, decided or not
    split = decision_effects(now, [[(1, c)], [(2, j)], [(3, withdrawn), (4, other)]], sent, {1, 2}, policy)
    assert split == [Effect("caritas", "correction", "P-A"), Effect("jobcenter", "correction", "P-A")]
    assert decision_effects(now, list(now.values()), sent, {1, 2}, policy) == []  # nothing changes: nothing new
    apart = {"P-A": [(1, c)], "P-C": [(2, j)]}
    merge = decision_effects(apart, [[(1, c), (2, j)]], {}, set(), policy)
    assert merge == [Effect("caritas", "summary", "P-A"), Effect("jobcenter", "summary", "P-C")]


# --- the pipeline ------------------------------------------------------------------------------------------


def test_a_split_of_a_person_whose_summaries_went_out_waits_for_a_second_reviewer_and_sends_what_it_showed(sent: Hub) -> None:
    hub, item, logged = sent, item_for(sent, ("caritas", "C-1"), ("jobcenter", "962D000001")), last_audit_id(sent)
    samira = person_of(hub, "caritas", "C-1")
    assert samira == person_of(hub, "jobcenter", "962D000001")
    shown = preview_review(hub.home, item, today=TODAY)
    assert shown is not None and shown.four_eyes
    assert shown.effects["different"] == sorted(shown.effects["different"], key=lambda e: e.body)
    assert {(e.body, e.kind, e.pseudonym) for e in shown.effects["different"]} == {
        ("caritas", "correction", samira),
        ("jobcenter", "correction", samira),
    }
    assert shown.effects["same"] == []  # one person already: "same" changes nothing that was sent

    pending = decide_review(hub.home, item, "different", "fields_differ", actor=ANNA)
    assert isinstance(pending, Pending) and (pending.decision, pending.requested_by) == ("different", "web:anna")
    assert person_of(hub, "jobcenter", "962D000001") == samira  # not applied
    with pytest.raises(ConfigError, match="waits for a second reviewer"):
        decide_review(hub.home, item, "same", "fields_agree", actor=DORA)  # one decision waits at a time
    with pytest.raises(SecondReviewerError):
        confirm_review(hub.home, item, actor=ANNA)  # not its own
    assert person_of(hub, "jobcenter", "962D000001") == samira
    assert [i.id for i in review_items(hub.home, "pending")] == [item]
    waiting = preview_review(hub.home, item, today=TODAY)
    assert waiting is not None and waiting.effects == {"different": shown.effects["different"]}  # what waits

    mark = last_transfer_id(hub)
    assert isinstance(confirm_review(hub.home, item, actor=DORA), LinkOutcome)
    assert person_of(hub, "caritas", "C-1") != person_of(hub, "jobcenter", "962D000001")  # applied
    assert review_items(hub.home, "pending") == []
    hub.push(TODAY)
    assert sent_since(hub, mark, ("C-1",)) == as_sent(shown.effects["different"])  # exactly what the page said
    (request,) = audit(hub, "review.request", logged)
    (decided,) = audit(hub, "review.decide", logged)
    assert (request.actor, request.detail["decision"]) == ("web:anna", "different")
    assert (decided.actor, decided.detail["requested_by"], decided.detail["reason"]) == ("web:dora", "web:anna", "fields_differ")
    assert all(f"review:{item}" in e.objects for e in audit(hub, "review.preview", logged))
    assert len(audit(hub, "review.preview", logged)) == 2  # each preview shown is a read


def test_a_merge_and_its_undo_wait_for_a_second_reviewer_and_the_push_sends_what_each_preview_said(sent: Hub) -> None:
    hub, item, logged = (
        sent,
        item_for(sent, ("caritas", "C-2"), ("caritas", "C-3")),
        last_audit_id(sent),
    )  # Ahmad (sent), Marta (never)
    merge = preview_review(hub.home, item, today=TODAY)
    assert merge is not None and merge.four_eyes and merge.effects["same"]
    assert isinstance(decide_review(hub.home, item, "same", "case_file_checked", actor=DORA), Pending)
    assert person_of(hub, "caritas", "C-2") != person_of(hub, "caritas", "C-3")
    mark = last_transfer_id(hub)
    confirm_review(hub.home, item, actor=ANNA)
    assert person_of(hub, "caritas", "C-2") == person_of(hub, "caritas", "C-3")
    hub.push(TODAY)
    assert sent_since(hub, mark, ("C-2", "C-3")) == as_sent(merge.effects["same"])

    back = preview_review(hub.home, item, today=TODAY)
    assert back is not None and list(back.effects) == ["undo"]
    assert {("caritas", "correction"), ("jobcenter", "correction")} <= as_sent(back.effects["undo"])  # Marta's facts went out
    assert isinstance(undo_review(hub.home, item, actor=ANNA), Pending)  # an undo amounts to a split
    assert person_of(hub, "caritas", "C-2") == person_of(hub, "caritas", "C-3")
    mark = last_transfer_id(hub)
    confirm_review(hub.home, item, actor=DORA)
    assert person_of(hub, "caritas", "C-2") != person_of(hub, "caritas", "C-3")
    hub.push(TODAY)
    assert sent_since(hub, mark, ("C-2", "C-3")) == as_sent(back.effects["undo"])
    (undone,) = audit(hub, "review.undo", logged)
    assert (undone.actor, undone.detail["requested_by"]) == ("web:dora", "web:anna")


def test_a_decision_touching_nobody_sent_applies_at_once(sent: Hub) -> None:
    hub, item, logged = sent, item_for(sent, ("caritas", "C-8"), ("caritas", "C-9")), last_audit_id(sent)
    shown = preview_review(hub.home, item, today=TODAY)
    assert shown is not None and not shown.four_eyes and shown.effects == {}
    assert isinstance(decide_review(hub.home, item, "same", "source_confirmed", actor=ANNA), LinkOutcome)
    assert person_of(hub, "caritas", "C-8") == person_of(hub, "caritas", "C-9")
    assert audit(hub, "review.request", logged) == [] and len(audit(hub, "review.decide", logged)) == 1


def test_the_command_line_says_a_decision_is_pending_and_another_actor_confirms_it(
    sent: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    hub, item = sent, item_for(sent, ("caritas", "C-5"), ("jobcenter", "962D000005"))
    home = ["--home", str(hub.path)]
    assert main(["review", "preview", str(item), *home]) == 0
    assert "correction to caritas" in capsys.readouterr().out.replace("  ", " ").replace("  ", " ")
    assert main(["review", "decide", str(item), "different", "--reason", "fields_differ", *home]) == 0
    assert "pending" in capsys.readouterr().out
    assert main(["review", "list", "--status", "pending", *home]) == 0
    assert f"#{item}" in capsys.readouterr().out
    assert main(["review", "confirm", str(item), *home]) == 2  # the same (operating-system) user
    assert "another reviewer" in capsys.readouterr().err
    assert main(["review", "reject", str(item), *home]) == 0  # its own request withdrawn
    assert review_items(hub.home, "pending") == []
    decide_review(hub.home, item, "different", "fields_differ", actor=ANNA)
    assert main(["review", "confirm", str(item), *home]) == 0
    assert "confirmed and applied" in capsys.readouterr().out
    assert person_of(hub, "caritas", "C-5") != person_of(hub, "jobcenter", "962D000005")


# --- the web pages -------------------------------------------------------------------------------------------


def signed_in(hub: Hub, name: str) -> TestClient:
    client = TestClient(create_app(hub.home), follow_redirects=False)
    token = TOKEN.search(client.get("/sign-in").text).group(1)
    assert client.post("/sign-in", data={"user": name, "password": PASSWORD, "csrf": token}).status_code == 303
    return client


def test_the_pair_page_shows_what_a_decision_would_send_and_a_second_reviewer_confirms_it(sent: Hub) -> None:
    hub, item, logged = sent, item_for(sent, ("caritas", "C-4"), ("jobcenter", "962D000004")), last_audit_id(sent)
    olena = person_of(hub, "caritas", "C-4")
    anna, dora = signed_in(hub, "anna"), signed_in(hub, "dora")
    page = anna.get(f"/review/{item}")
    assert page.status_code == 200 and "Vier-Augen-Prinzip" in page.text
    effects = re.search(r'<table data-testid="effects-different">.*?</table>', page.text, re.S).group(0)
    assert effects.count("Korrekturhinweis") == 2 and "jobcenter" in effects and olena in effects
    assert 'data-testid="effects-same"' in page.text and "keine Benachrichtigung" in page.text
    token = TOKEN.search(page.text).group(1)
    asked = anna.post(f"/review/{item}/decide", data={"decision": "different", "reason": "fields_differ", "csrf": token})
    assert (asked.status_code, asked.headers["location"]) == (303, f"/review/{item}?notice=pending")
    waiting = anna.get(asked.headers["location"]).text
    assert "Wartet auf Bestätigung" in waiting and "web:anna" in waiting and 'data-testid="confirm"' not in waiting
    refused = anna.post(f"/review/{item}/confirm", data={"csrf": token})
    assert refused.status_code == 403 and "von einer anderen Person bestätigt" in refused.text
    assert person_of(hub, "jobcenter", "962D000004") == olena
    queue = dora.get("/review").text
    assert 'data-testid="waiting"' in queue and f'href="/review/{item}"' in queue and "wartet auf Bestätigung" in queue
    second = dora.get(f"/review/{item}", params={"lang": "en"}).text  # the words in English too
    assert "correction notice" in second and "Waiting for confirmation" in second
    assert 'data-testid="confirm"' in second and 'data-testid="reject"' in second
    confirmed = dora.post(f"/review/{item}/confirm", data={"csrf": TOKEN.search(second).group(1)})
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, f"/review/{item}?notice=confirmed")
    assert person_of(hub, "caritas", "C-4") != person_of(hub, "jobcenter", "962D000004")
    (decided,) = audit(hub, "review.decide", logged)
    assert (decided.actor, decided.detail["requested_by"], decided.detail["role"]) == ("web:dora", "web:anna", "reviewer")
    assert "Haddad" not in second and "1982" not in second


def test_a_pending_decision_can_be_rejected_and_nothing_changes(sent: Hub) -> None:
    hub, item, logged = sent, item_for(sent, ("caritas", "C-6"), ("jobcenter", "962D000006")), last_audit_id(sent)
    elif_ = person_of(hub, "caritas", "C-6")
    assert isinstance(decide_review(hub.home, item, "different", "fields_differ", actor=ANNA), Pending)
    dropped = reject_review(hub.home, item, actor=DORA)
    assert dropped.decision == "different"
    assert person_of(hub, "caritas", "C-6") == person_of(hub, "jobcenter", "962D000006") == elif_
    (rejected,) = audit(hub, "review.reject", logged)
    assert (rejected.actor, rejected.detail["requested_by"], rejected.detail["own"]) == ("web:dora", "web:anna", False)
    with pytest.raises(ConfigError, match="no decision waiting"):
        confirm_review(hub.home, item, actor=DORA)
