"""The review worklist and the auditor's page (issue 21): the queue filtered by age, items taken,
released, postponed and taken back (web and command line, each a change in the audit log), the
pair page's chart of the match weight per field from the model that scored the pair, and the
audit log for the role ``auditor`` only, its chain verified, looking at it itself logged.

Through FastAPI's TestClient; the weights on one small home linked once for the module.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kim_hub.cli.main import main
from kim_hub.hub_db.master_index import load_index
from kim_hub.hub_db.models import AuditEntry, ModelVersion, ReviewItem
from kim_hub.linkage.compare import FIELDS
from kim_hub.linkage.model import MatchModel
from kim_hub.pipeline.audit import verify_log
from kim_hub.pipeline.review import QueueFilter, review_items
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub, review_home, sqlite_url
from tests.support.data import CLEAR_IDENTITY, GOOD
from tests.support.tampering import triggers_bypassed
from tests.support.web import PASSWORD, signed_in, token_of

NEAR_SAMIRA = [  # the job centre's records near caritas' Samira: the model is unsure of some
    "962D000001,HADAD,SAMIRA,1988-03-14,F,SYR,Andere Str 9,50667,,active",
    "962D000002,HADDAD,SAMIRA,1988-04-13,F,SYR,Andere Str 9,50667,,active",
    "962D000004,HADDAD,SAMIR,1988-03-14,M,SYR,Testweg 1,51373,,active",
]


def entries(hub: Hub, action: str) -> list[AuditEntry]:
    with hub.sessions() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


def listed(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'href="/review/(\d+)"', page)}


@pytest.fixture(scope="module")
def queue_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, int], dict[str, TestClient]]]:
    """``review_home`` with a reviewer for every body (anna), one for caritas (ben), an operator, a
    provider and an auditor (vera), each signed in once (SQLite; the tests below run in file order,
    the auditor's last: it decides a pair and breaks the log's chain)."""
    folder: Path = tmp_path_factory.mktemp("queue")
    hub = Hub.create(folder / "home", sqlite_url(folder / "hub.db"))
    items = review_home(hub)
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "ben", "reviewer", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "otto", "operator", PASSWORD)
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "vera", "auditor", PASSWORD)
    yield hub, items, {name: signed_in(hub, name) for name in ("anna", "ben", "otto", "carla", "vera")}
    hub.close()


# --- the weight per field ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """Caritas' two persons and three job-centre records near Samira, linked once with a band of
    review wide enough that the model's unsure pairs land in the queue (SQLite)."""
    folder: Path = tmp_path_factory.mktemp("scored")
    hub = Hub.create(folder / "home", sqlite_url(folder / "hub.db"))
    hub.config.legal_bases = {"statute:Testgesetz § 1": "kim"}
    for source in ("caritas", "jobcenter"):
        hub.config.sources[source].legal_basis = "statute:Testgesetz § 1"
    hub.config.linkage.auto_link_probability = 0.9999999999999
    hub.config.linkage.review_probability = 0.01
    hub.home.save_config(hub.config)
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.drop_rows("jobcenter", "j.csv", NEAR_SAMIRA)
    for source in ("caritas", "jobcenter"):
        hub.ingest(source)
    assert hub.link().review_items >= 2
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    yield hub
    hub.close()


def test_a_review_item_keeps_the_weight_each_field_added_under_the_model_that_scored_it(scored: Hub) -> None:
    with scored.sessions() as session:
        items = session.execute(select(ReviewItem)).scalars().all()
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc())).scalars().first()
        model = MatchModel.from_dict(stored.parameters).applied_to(load_index(session))
    assert model.same_body_shift == model.other_body_shift == 0.0  # a small index: the shipped model, no shifts
    for item in items:
        assert list(item.weights) == list(FIELDS)
        log_odds = sum(item.weights.values()) + model.prior_log_odds
        assert 1 / (1 + 2**-log_odds) == pytest.approx(item.score, abs=2e-3)  # the bars add up to the probability shown
    assert len({json.dumps(item.weights) for item in items}) == len(items)  # each pair its own numbers


def test_the_pair_page_draws_the_weights_as_a_chart_with_the_numbers_as_its_text_alternative(scored: Hub) -> None:
    client = signed_in(scored, "anna")
    with scored.sessions() as session:
        item = max(session.execute(select(ReviewItem)).scalars(), key=lambda i: i.score)
    page = client.get(f"/review/{item.id}").text
    assert '<svg class="weight-chart"' in page and 'role="img"' in page and 'aria-labelledby="weights-title"' in page
    bars = {field: kind for kind, field in re.findall(r'<rect class="(bar-for|bar-against)"[^>]*data-field="(\w+)"', page)}
    assert bars == {field: "bar-for" if weight >= 0 else "bar-against" for field, weight in item.weights.items()}
    table = re.search(r'<table id="weights-table">.*?</table>', page, re.S).group(0)
    numbers = re.findall(r'<td class="number">([^<]+)</td>', table)
    assert numbers == [f"{w:+.1f}".replace(".", ",") for w in item.weights.values()]  # German decimal comma
    assert "Vorname" in table and "<script" not in page and "style=" not in page
    english = client.get(f"/review/{item.id}", params={"lang": "en"}).text
    assert f"{item.weights['given_names']:+.1f}" in english and "Weight per field" in english
    assert not any(name in page for name in CLEAR_IDENTITY)


def test_an_item_stored_before_the_weights_says_so_instead_of_a_chart(queue_home: tuple) -> None:
    _hub, items, clients = queue_home
    page = clients["anna"].get(f"/review/{items['caritas']}").text
    assert "<svg" not in page and "keine Gewichte je Merkmal gespeichert" in page


# --- the worklist: age, assignment, postponement ------------------------------------------------------------


def test_the_queue_filters_by_age_and_a_reviewer_takes_releases_and_postpones_pairs(queue_home: tuple) -> None:
    hub, items, clients = queue_home
    old, new = items["caritas"], items["across"]
    with hub.sessions() as session, session.begin():
        session.execute(
            update(ReviewItem).where(ReviewItem.id == old).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
        )
    anna, ben = clients["anna"], clients["ben"]
    assert listed(anna.get("/review", params={"older": "7"}).text) == {old}
    assert listed(anna.get("/review", params={"older": "30"}).text) == set()
    assert listed(anna.get("/review").text) == {old, new}

    token = token_of(anna, f"/review/{old}")
    assert anna.post(f"/review/{old}/take", data={"csrf": token}).status_code == 303
    assert listed(anna.get("/review", params={"assigned": "mine"}).text) == {old}
    assert listed(anna.get("/review", params={"assigned": "unassigned"}).text) == {new}
    taken = ben.post(f"/review/{old}/take", data={"csrf": token_of(ben, f"/review/{old}")})
    assert taken.status_code == 409 and "anderen Person bearbeitet" in taken.text and "anna" in taken.text
    assert ben.post(f"/review/{old}/release", data={"csrf": token_of(ben, f"/review/{old}")}).status_code == 409
    assert ben.post(f"/review/{new}/take", data={"csrf": token_of(ben, f"/review/{old}")}).status_code == 404  # not ben's grant
    assert anna.post(f"/review/{old}/release", data={"csrf": token}).status_code == 303
    assert listed(anna.get("/review", params={"assigned": "unassigned"}).text) == {old, new}

    assert anna.post(f"/review/{new}/postpone", data={"csrf": token, "until": ""}).status_code == 303  # "later"
    assert listed(anna.get("/review").text) == {old}
    aside = anna.get("/review/postponed").text
    assert listed(aside) == {new} and "auf Weiteres" in aside
    assert anna.post(f"/review/{new}/resume", data={"csrf": token}).status_code == 303
    assert listed(anna.get("/review").text) == {old, new}
    yesterday, tomorrow = (dt.date.today() + dt.timedelta(days=d) for d in (-1, 2))
    assert anna.post(f"/review/{new}/postpone", data={"csrf": token, "until": yesterday.isoformat()}).status_code == 409
    assert anna.post(f"/review/{new}/postpone", data={"csrf": token, "until": tomorrow.isoformat()}).status_code == 303
    assert listed(anna.get("/review/postponed").text) == {new} and listed(anna.get("/review").text) == {old}
    with hub.sessions() as session, session.begin():  # its day comes: back in the queue by itself
        session.execute(update(ReviewItem).where(ReviewItem.id == new).values(postponed_until=dt.datetime.now(dt.UTC)))
    assert listed(anna.get("/review").text) == {old, new} and listed(anna.get("/review/postponed").text) == set()

    changes = [(e.action, e.actor, e.channel) for e in entries(hub, "review.assign") + entries(hub, "review.release")]
    assert changes == [("review.assign", "web:anna", "change"), ("review.release", "web:anna", "change")]
    postponed = entries(hub, "review.postpone")
    assert [e.detail["until"] for e in postponed] == ["later", f"{tomorrow.isoformat()}T00:00:00+00:00"]
    assert all(f"review:{new}" in e.objects and e.detail["role"] == "reviewer" for e in postponed + entries(hub, "review.resume"))
    assert len(entries(hub, "review.resume")) == 1 and verify_log(hub.home).intact


def test_the_command_line_assigns_postpones_and_lists_by_the_worklists_filters(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    items = review_home(hub)
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "otto", "operator", PASSWORD)
    home, item = str(hub.path), items["caritas"]
    assert main(["review", "assign", str(item), "--to", "otto", "--home", home]) != 0  # not a reviewer
    assert main(["review", "assign", str(item), "--to", "anna", "--home", home]) == 0
    assert main(["review", "list", "--assigned-to", "anna", "--format", "json", "--home", home]) == 0
    assert main(["review", "postpone", str(items["across"]), "--until", "2999-01-01", "--home", home]) == 0
    capsys.readouterr()
    assert main(["review", "list", "--format", "json", "--home", home]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == [item]
    assert main(["review", "list", "--postponed", "--home", home]) == 0
    assert f"#{items['across']}" in capsys.readouterr().out
    assert main(["review", "release", str(item), "--home", home]) == 0
    assert main(["review", "resume", str(items["across"]), "--home", home]) == 0
    assert {i.id for i in review_items(hub.home, wanted=QueueFilter(unassigned=True, postponed=False))} == {item, items["across"]}
    assert [e.detail["to"] for e in entries(hub, "review.assign")] == ["web:anna"]
    assert [e.action for e in entries(hub, "review.release") + entries(hub, "review.resume")] == [
        "review.release",
        "review.resume",
    ]


def test_the_new_pages_carry_no_script_and_no_inline_style(queue_home: tuple) -> None:
    _hub, _items, clients = queue_home
    for client, path in ((clients["vera"], "/audit"), (clients["anna"], "/review/postponed"), (clients["anna"], "/review")):
        answer = client.get(path)
        assert answer.status_code == 200 and "<script" not in answer.text and "style=" not in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")


# --- the auditor ------------------------------------------------------------------------------------------


def test_only_an_auditor_sees_the_audit_log_filtered_and_verified_and_looking_is_logged(queue_home: tuple) -> None:
    hub, items, clients = queue_home
    anna = clients["anna"]
    token = token_of(anna, f"/review/{items['caritas']}")
    anna.post(f"/review/{items['caritas']}/decide", data={"decision": "same", "reason": "fields_agree", "csrf": token})
    for name in ("anna", "otto", "carla", "ben"):
        assert clients[name].get("/audit").status_code == 404
    vera = clients["vera"]
    assert vera.get("/").headers["location"] == "/audit"
    page = vera.get("/audit")
    assert page.status_code == 200 and "Alle Ketten sind unversehrt." in page.text
    assert "review.decide" in page.text and "ingest" in page.text and "web:anna" in page.text
    decided = vera.get("/audit", params={"action": "review.decide", "since": dt.date.today().isoformat()}).text
    rows = re.search(r'<table id="audit-entries">.*?</table>', decided, re.S).group(0)
    assert rows.count("<tr>") == 2 and f"review:{items['caritas']}" in rows  # the header and the one decision
    assert "review.decide" in vera.get("/audit", params={"actor": "anna"}).text
    nothing = vera.get("/audit", params={"actor": "otto", "action": "review"}).text
    assert 'id="audit-entries"' not in nothing and "Keine Einträge" in nothing
    assert vera.get("/audit", params={"until": "gestern"}).status_code == 400
    assert vera.get("/audit", params={"actor": "anna; drop"}).status_code == 400
    assert not any(name in page.text for name in CLEAR_IDENTITY) and "C-1" not in page.text
    looked = entries(hub, "audit.list")
    assert looked and all(e.actor == "web:vera" and e.channel == "admin" and e.detail["role"] == "auditor" for e in looked)
    assert any(e.detail["filter"].get("action") == "review.decide" for e in looked)
    with triggers_bypassed(hub) as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.action == "review.decide").values(purpose="nothing"))  # type: ignore[attr-defined]
    broken = vera.get("/audit").text
    assert "NICHT unversehrt" in broken and "unterbrochen bei" in broken
