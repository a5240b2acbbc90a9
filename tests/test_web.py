"""The web application (issue 21, first slice): local accounts, sessions, form tokens, role and
body scope, the review pages with decide and undo, and the audit of every view and action.

Through FastAPI's TestClient on the ``hub`` fixture (SQLite and PostgreSQL); the browser walk is
tests/e2e/test_web_browser.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kim_hub.cli.main import main
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.models import AuditEntry, ReviewItem, SourceRecord, WebSession, WebUser
from kim_hub.pipeline.review import REASONS, decide_review, review_items, undo_review
from kim_hub.pipeline.web_sessions import ABSOLUTE, IDLE, MAX_FAILURES_PER_ACCOUNT, current, sign_in
from kim_hub.pipeline.web_users import ROLES, add_user, list_users
from kim_hub.web.app import create_app
from tests.support import Hub, review_home
from tests.support.data import CLEAR_IDENTITY, EXCHANGE_HEADER
from tests.support.files import csv_text
from tests.support.scenarios import REVIEW_EVIDENCE
from tests.support.web import PASSWORD, TOKEN, main_of, signed_in, token_of


def accounts(hub: Hub) -> None:
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "ben", "reviewer", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "otto", "operator", PASSWORD)


def entries(hub: Hub, action: str) -> list[AuditEntry]:
    with hub.sessions() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


# --- accounts -------------------------------------------------------------------------------------------


def test_an_account_keeps_an_argon2_hash_never_the_password_and_refuses_what_it_cannot_hold(hub: Hub) -> None:
    account = add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    assert account.actor.kind == "web" and str(account.actor) == "web:carla"
    with hub.sessions() as session:
        stored = session.execute(select(WebUser)).scalar_one()
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    for refused in (
        lambda: add_user(hub.home, "carla", "reviewer", PASSWORD),  # taken
        lambda: add_user(hub.home, "dora", "admin", PASSWORD),  # no such role
        lambda: add_user(hub.home, "dora", "provider", PASSWORD),  # a provider needs its body
        lambda: add_user(hub.home, "dora", "reviewer", "kurz"),  # too short
        lambda: add_user(hub.home, "dora", "reviewer", PASSWORD, organisations=["../etc"]),
        lambda: add_user(hub.home, "dora mit leerzeichen", "reviewer", PASSWORD),
    ):
        with pytest.raises(ConfigError):
            refused()
    assert [(a.name, a.role, a.organisations) for a in list_users(hub.home)] == [("carla", "provider", ("caritas",))]
    assert [e.detail["user"] for e in entries(hub, "users.add")] == ["carla"]


def test_users_add_reads_the_password_from_stdin_and_never_from_an_argument(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(hub.path)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "anna", "--role", "reviewer", "--org", "caritas", "--password-stdin", "--home", home]) == 0
    with pytest.raises(SystemExit) as usage:
        main(["users", "add", "ben", "--role", "reviewer", "--password", PASSWORD, "--home", home])
    assert usage.value.code == 2
    assert main(["users", "list", "--home", home]) == 0
    assert "anna\treviewer\torg=caritas" in capsys.readouterr().out
    before = sign_in(hub.home, "anna", PASSWORD, "10.0.0.1")
    assert before is not None and current(hub.home, before.cookie) is not None
    assert main(["users", "disable", "anna", "--home", home]) == 0
    assert sign_in(hub.home, "anna", PASSWORD, "10.0.0.1") is None
    assert current(hub.home, before.cookie) is None  # its session ended with it


# --- sessions -------------------------------------------------------------------------------------------


def test_a_session_is_stored_as_a_hash_and_ends_when_idle_too_long_or_too_old(hub: Hub) -> None:
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    start = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
    created = sign_in(hub.home, "anna", PASSWORD, "10.0.0.1", now=start)
    assert created is not None and len(created.cookie) >= 40
    with hub.sessions() as session:
        stored = session.execute(select(WebSession)).scalar_one()
    assert created.cookie not in (stored.token_hash, stored.csrf_token) and len(stored.token_hash) == 64
    assert current(hub.home, created.cookie, now=start + IDLE - dt.timedelta(minutes=1)) is not None
    assert current(hub.home, "not-a-session", now=start) is None
    step, moment = IDLE - dt.timedelta(minutes=1), start + IDLE - dt.timedelta(minutes=1)
    while moment + step < start + ABSOLUTE:  # kept alive: still signed in until the absolute limit
        moment += step
        assert current(hub.home, created.cookie, now=moment) is not None
    assert current(hub.home, created.cookie, now=start + ABSOLUTE + dt.timedelta(minutes=1)) is None
    idle = sign_in(hub.home, "anna", PASSWORD, "10.0.0.1", now=start)
    assert idle is not None and current(hub.home, idle.cookie, now=start + IDLE + dt.timedelta(minutes=1)) is None
    with hub.sessions() as session:
        assert session.execute(select(WebSession)).scalars().all() == []  # expired sessions are removed


def test_sign_in_is_rate_limited_per_account_with_one_answer_for_every_failure(hub: Hub) -> None:
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    now = dt.datetime.now(dt.UTC)
    for attempt in range(MAX_FAILURES_PER_ACCOUNT):
        assert sign_in(hub.home, "anna", f"falsch-{attempt}", f"10.0.0.{attempt}", now=now) is None
    assert sign_in(hub.home, "anna", PASSWORD, "10.0.0.99", now=now) is None  # limited: even the right password
    assert sign_in(hub.home, "anna", PASSWORD, "10.0.0.99", now=now + dt.timedelta(minutes=16)) is not None
    refused = entries(hub, "web.sign_in_refused")
    assert [e.detail["rate_limited"] for e in refused] == [False] * MAX_FAILURES_PER_ACCOUNT + [True]
    assert all("anna" not in json.dumps(e.detail) for e in refused)
    client = TestClient(create_app(hub.home), follow_redirects=False)
    token = TOKEN.search(client.get("/sign-in").text).group(1)
    wrong = client.post("/sign-in", data={"user": "anna", "password": "falsch", "csrf": token})
    token = TOKEN.search(wrong.text).group(1)
    unknown = client.post("/sign-in", data={"user": "niemand", "password": PASSWORD, "csrf": token})
    no_token = client.post("/sign-in", data={"user": "anna", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == no_token.status_code == 401
    assert TOKEN.sub("", wrong.text) == TOKEN.sub("", unknown.text) == TOKEN.sub("", no_token.text)
    assert "kim_session" not in client.cookies


# --- headers, cookies, form tokens ----------------------------------------------------------------------


def test_every_response_carries_the_security_headers_and_the_cookie_is_http_only_and_strict(hub: Hub) -> None:
    accounts(hub)
    plain = TestClient(create_app(hub.home), follow_redirects=False)
    for response in (plain.get("/sign-in"), plain.get("/static/style.css"), plain.get("/nowhere")):
        assert response.headers["content-security-policy"].startswith("default-src 'self'; frame-ancestors 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers
    page = plain.get("/sign-in").text
    assert "<script" not in page and "style=" not in page  # the policy holds: nothing inline
    tls = TestClient(create_app(hub.home), base_url="https://testserver", follow_redirects=False)
    token = TOKEN.search(tls.get("/sign-in").text).group(1)
    answer = tls.post("/sign-in", data={"user": "anna", "password": PASSWORD, "csrf": token})
    cookie = answer.headers["set-cookie"]
    assert "kim_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_a_decision_without_the_sessions_form_token_is_refused(hub: Hub) -> None:
    items = review_home(hub)
    accounts(hub)
    client = signed_in(hub, "anna")
    item = items["caritas"]
    for form in (
        {"decision": "same", "reason": "fields_agree"},
        {"decision": "same", "reason": "fields_agree", "csrf": "x" * 43},
    ):
        assert client.post(f"/review/{item}/decide", data=form).status_code == 403
    other = signed_in(hub, "ben")  # another session's token is not this session's
    stolen = token_of(other, f"/review/{item}")
    assert (
        client.post(f"/review/{item}/decide", data={"decision": "same", "reason": "fields_agree", "csrf": stolen}).status_code
        == 403
    )
    assert [i.status for i in review_items(hub.home, "all")] == ["open", "open"]


# --- scope ------------------------------------------------------------------------------------------------


def test_a_page_outside_the_role_or_the_body_answers_like_a_page_that_does_not_exist(hub: Hub) -> None:
    items = review_home(hub)
    accounts(hub)
    provider, reviewer, operator = signed_in(hub, "carla"), signed_in(hub, "anna"), signed_in(hub, "otto")
    missing = provider.get("/no-such-page")
    assert missing.status_code == 404
    for client, path in (
        (provider, "/review"),
        (provider, f"/review/{items['caritas']}"),
        (provider, "/receipts/jobcenter"),  # another body's receipts
        (provider, "/sources"),
        (reviewer, "/receipts/caritas"),
        (reviewer, "/sources"),
        (reviewer, "/review/99999"),
        (operator, "/review"),
        (operator, f"/review/{items['caritas']}"),
        (operator, "/receipts/caritas"),
        (operator, "/linkage-rules"),  # the household rules: reviewers, coordinators, the auditor
        (provider, "/linkage-rules"),
        (signed_in(hub, "ben"), f"/review/{items['across']}"),  # ben is granted caritas only
    ):
        answer = client.get(path)
        assert (answer.status_code, main_of(answer.text)) == (404, main_of(missing.text)), path
    assert operator.post(f"/review/{items['caritas']}/decide", data={}).status_code == 404
    stranger = TestClient(create_app(hub.home), follow_redirects=False)
    for path in ("/review", "/no-such-page", "/receipts/caritas"):  # not signed in: sent to sign in, existing or not
        answer = stranger.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


def test_a_small_index_shows_its_household_rules_held_and_no_census_of_its_own(hub: Hub) -> None:
    """Under MIN_RECORDS_TO_ESTIMATE records the hub runs on the shipped default model, whose
    counts are not this index's: the page says so and shows every rule held (the counts at zero)."""
    review_home(hub)
    accounts(hub)
    page = main_of(signed_in(hub, "anna").get("/linkage-rules").text)
    assert page.count("zur Prüfung zurückgehalten") == 3 and "Noch kein eigenes Modell" in page
    assert "0 Geschwisterpaare unter 0 Haushaltspaaren" in page


def test_a_provider_sees_its_own_receipts_and_the_view_is_audited_by_id(hub: Hub) -> None:
    review_home(hub)
    accounts(hub)
    provider = signed_in(hub, "carla")
    assert provider.get("/").headers["location"] == "/receipts/caritas"
    listing = provider.get("/receipts/caritas")
    assert listing.status_code == 200 and "c.csv" in listing.text and "j.csv" not in listing.text
    key = re.search(r'href="/receipts/caritas/([0-9a-f]{16})"', listing.text).group(1)
    page = provider.get(f"/receipts/caritas/{key}")
    assert page.status_code == 200 and "angenommen" in page.text
    assert provider.get("/receipts/caritas/0123456789abcdef").status_code == 404
    views = [e for e in entries(hub, "web.view") if e.detail["page"] in ("receipts", "receipt")]
    assert [(e.actor, e.detail["page"], e.detail["role"], e.detail["organisations"]) for e in views] == [
        ("web:carla", "receipts", "provider", ["caritas"]),
        ("web:carla", "receipt", "provider", ["caritas"]),
    ]
    assert views[1].objects[0].startswith("file:caritas:") and key in views[1].objects[0]
    assert "c.csv" not in json.dumps([(e.objects, e.detail) for e in views])


def test_an_operator_sees_sources_and_deliveries_without_person_level_data(hub: Hub) -> None:
    items = review_home(hub)
    accounts(hub)
    operator = signed_in(hub, "otto")
    page = operator.get("/sources")
    assert page.status_code == 200 and "caritas" in page.text and "angenommen 1" in page.text
    pseudonyms = [p for p in hub.pseudonyms().values() if p]
    assert pseudonyms and not any(p in page.text for p in pseudonyms)
    assert "C-1" not in page.text and not any(name in page.text for name in CLEAR_IDENTITY)
    assert operator.get(f"/review/{items['caritas']}").status_code == 404


# --- review: queue, pair, decide, undo ----------------------------------------------------------------------


def test_a_reviewer_filters_the_queue_reads_the_evidence_in_german_decides_with_a_reason_and_undoes(hub: Hub) -> None:
    items = review_home(hub)
    accounts(hub)
    client = signed_in(hub, "anna")
    assert client.get("/").headers["location"] == "/review"
    queue = client.get("/review")
    assert queue.status_code == 200 and f"/review/{items['caritas']}" in queue.text and f"/review/{items['across']}" in queue.text
    across = client.get("/review", params={"pair": "caritas~jobcenter"}).text
    assert f"/review/{items['across']}" in across and f"/review/{items['caritas']}" not in across
    within = client.get("/review", params={"pair": "caritas~caritas"}).text  # duplicates within one body too
    assert f"/review/{items['caritas']}" in within and f"/review/{items['across']}" not in within
    high = client.get("/review", params={"min": "0.6"}).text
    assert f"/review/{items['across']}" in high and f"/review/{items['caritas']}" not in high
    pair = client.get(f"/review/{items['caritas']}")
    assert "Transliterationsvariante" in pair.text and "gleicher Platzhalter (z. B. 01.01.)" in pair.text
    assert "Platzhalterdatum in Datensatz A" in pair.text and "C-1" in pair.text and "C-2" in pair.text
    assert not any(name in page for name in CLEAR_IDENTITY for page in (queue.text, pair.text))
    assert "transliteration variant" in client.get(f"/review/{items['caritas']}", params={"lang": "en"}).text
    client.get("/review", params={"lang": "de"})
    token = TOKEN.search(pair.text).group(1)
    no_reason = client.post(f"/review/{items['caritas']}/decide", data={"decision": "same", "csrf": token})
    assert no_reason.status_code == 400 and "Begründung" in no_reason.text
    decided = client.post(
        f"/review/{items['caritas']}/decide", data={"decision": "same", "reason": "case_file_checked", "csrf": token}
    )
    assert decided.status_code == 303
    with hub.sessions() as session:
        item = session.get(ReviewItem, items["caritas"])
        assert (item.status, item.reason) == ("same", "case_file_checked")
    (change,) = entries(hub, "review.decide")
    assert change.actor == "web:anna" and change.channel == "change"
    assert {k: change.detail[k] for k in ("decision", "reason", "role")} == {
        "decision": "same",
        "reason": "case_file_checked",
        "role": "reviewer",
    }
    assert f"review:{items['caritas']}" in change.objects
    shown = client.get(f"/review/{items['caritas']}")
    assert "dieselbe Person" in shown.text and "Nach Prüfung der Akte" in shown.text
    undone = client.post(f"/review/{items['caritas']}/undo", data={"csrf": token})
    assert undone.status_code == 303
    (undo,) = entries(hub, "review.undo")
    assert undo.actor == "web:anna" and undo.detail["undone"] == "same"
    reads = entries(hub, "review.list") + entries(hub, "review.show")
    assert reads and all(e.actor == "web:anna" and e.detail["role"] == "reviewer" for e in reads)
    assert not any(name in json.dumps([(e.objects, e.detail) for e in reads]) for name in CLEAR_IDENTITY)


def test_a_reviewer_granted_one_body_sees_only_pairs_of_its_records(hub: Hub) -> None:
    items = review_home(hub)
    accounts(hub)
    ben = signed_in(hub, "ben")
    queue = ben.get("/review").text
    assert f"/review/{items['caritas']}" in queue and f"/review/{items['across']}" not in queue
    token = token_of(ben, f"/review/{items['caritas']}")
    refused = ben.post(f"/review/{items['across']}/decide", data={"decision": "same", "reason": "fields_agree", "csrf": token})
    assert refused.status_code == 404
    assert [i.status for i in review_items(hub.home, "all")] == ["open", "open"]


# --- undo in the pipeline ------------------------------------------------------------------------------------


def test_an_undo_lifts_the_decisions_constraint_and_relinks_the_pair(hub: Hub) -> None:
    items = review_home(hub)
    before = hub.pseudonyms()
    assert before[("caritas", "C-1")] != before[("caritas", "C-2")]
    with pytest.raises(ConfigError, match="nothing to undo"):
        undo_review(hub.home, items["caritas"])
    decide_review(hub.home, items["caritas"], "same", "fields_agree")
    merged = hub.pseudonyms()
    assert merged[("caritas", "C-1")] == merged[("caritas", "C-2")]  # the decision binds the clustering
    undo_review(hub.home, items["caritas"])
    apart = hub.pseudonyms()
    assert apart[("caritas", "C-1")] != apart[("caritas", "C-2")]  # and the undo lifts it
    with hub.sessions() as session:
        statuses = {i.status for i in session.execute(select(ReviewItem)).scalars()}
    assert "same" not in statuses
    with pytest.raises(ConfigError):
        decide_review(hub.home, items["across"], "same", "not-a-reason")


def test_the_command_line_offers_the_pipelines_roles_and_reasons() -> None:
    from kim_hub.cli.main import build_parser

    parser = build_parser()
    for reason in REASONS:
        assert parser.parse_args(["review", "decide", "1", "same", "--reason", reason]).reason == reason
    for role in ROLES:
        assert parser.parse_args(["users", "add", "x", "--role", role]).role == role


def test_kim_hub_web_serves_the_home_on_the_host_and_port_given(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple] = []
    monkeypatch.setattr("kim_hub.web.server.serve", lambda *args: served.append(args))
    assert main(["web", "--home", str(hub.path), "--host", "127.0.0.2", "--port", "9099"]) == 0
    assert [(home.path, host, port, cert) for home, host, port, cert, _key, _ca in served] == [
        (hub.path, "127.0.0.2", 9099, None)
    ]
    assert main(["web", "--home", str(hub.path), "--certfile", "cert.pem"]) == 2  # without its key
    assert main(["web", "--home", str(hub.path), "--client-ca", "ca.pem"]) == 2  # client certificates need TLS


def test_after_a_decision_the_reviewer_goes_to_the_pair_or_to_the_queue_when_the_pair_left_it(hub: Hub) -> None:
    """A merge with a person whose consent was withdrawn leaves nobody the hub may hold for KIM:
    the queue no longer shows the pair, so the decision leads back to the queue, never to a 404."""
    withdrawn = dt.date.today().isoformat()
    rows = [  # EXCHANGE_HEADER rows: two pairs of persons, the second of each withdrew their consent
        "C-1,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,active,2026-01-15,kim,,2026-11-20",
        f"C-2,Testova,Marta,1975-11-02,F,UKR,Probeweg 2,51375,active,2026-01-15,kim,{withdrawn},2026-11-20",
        "C-3,Rahimi,Ahmad,1990-05-02,M,AFG,Testweg 3,51377,active,2026-01-15,kim,,2026-11-20",
        f"C-4,Nowak,Olena,1982-07-21,F,UKR,Probeweg 4,51371,active,2026-01-15,kim,{withdrawn},2026-11-20",
    ]
    hub.drop("caritas", "c.csv", csv_text(rows, EXCHANGE_HEADER))
    hub.sync()
    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        merged = ReviewItem(record_a=ids["C-1"], record_b=ids["C-2"], score=0.55, evidence=REVIEW_EVIDENCE)
        apart = ReviewItem(record_a=ids["C-3"], record_b=ids["C-4"], score=0.55, evidence=REVIEW_EVIDENCE)
        session.add_all([merged, apart])
    accounts(hub)
    client = signed_in(hub, "anna")
    for item, decision, location in (
        (apart.id, "different", f"/review/{apart.id}"),
        (merged.id, "same", "/review?notice=decided_out_of_view"),
    ):
        token = token_of(client, f"/review/{item}")
        answer = client.post(f"/review/{item}/decide", data={"decision": decision, "reason": "fields_agree", "csrf": token})
        assert (answer.status_code, answer.headers["location"]) == (303, location)
        assert client.get(answer.headers["location"]).status_code == 200
    assert client.get(f"/review/{merged.id}").status_code == 404, "the pair left the queue"
    assert "zeigt die Prüfliste dieses Paar nicht mehr" in client.get("/review?notice=decided_out_of_view").text
