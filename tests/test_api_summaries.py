"""Collecting summaries over the providers' HTTP API (issue 22, item 3): a body with the ``collect``
scope pages through exactly the documents its outbox would hold, acknowledges what it stored (the
transfer, in the audit log), and reaches no other body's documents.

The pipeline underneath (``pipeline.api_collect``) is tested in tests/test_api_collect.py; here the
HTTP layer: routes, scopes, 404 for another body, paging, the audit of every call.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from kim_hub.hub_db.models import AuditEntry, Transfer
from kim_hub.pipeline.api_tokens import issue_token
from kim_hub.web.app import create_app
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv
from tests.support.databases import sqlite_url
from tests.support.scenarios import collecting, outbox_documents, samira_pushed, without_time

SUMMARIES = "/api/v1/bodies/{body}/summaries"
ACKNOWLEDGEMENTS = "/api/v1/bodies/{body}/acknowledgements"


def bearer(hub: Hub, body: str, *scopes: str) -> dict[str, str]:
    token = issue_token(hub.home, body, scopes or ("collect",), dt.timedelta(days=90))[0]
    return {"Authorization": f"Bearer {token}"}


def client_of(hub: Hub) -> TestClient:
    return TestClient(create_app(hub.home), follow_redirects=False)


def transfers(hub: Hub) -> list[tuple[str, str]]:
    with hub.sessions() as session:
        return [(t.recipient_source, t.kind) for t in session.execute(select(Transfer).order_by(Transfer.id)).scalars()]


def entries(hub: Hub, action: str) -> list[AuditEntry]:
    with hub.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(session.execute(query).scalars())


def test_collected_over_http_equals_the_outbox_and_acknowledging_records_the_transfer(hub: Hub, tmp_path: Path) -> None:
    twin = samira_pushed(Hub.create(tmp_path / "twin", sqlite_url(tmp_path / "twin.db")))  # the same, by outbox
    try:
        samira_pushed(collecting(hub, "caritas", "jobcenter"))
        client = client_of(hub)
        for body in ("caritas", "jobcenter"):
            headers = bearer(hub, body)
            page = client.get(SUMMARIES.format(body=body), headers=headers)
            assert page.status_code == 200
            documents = page.json()["documents"]
            expected = outbox_documents(twin, body)
            assert len(expected) == 1
            assert [without_time(d["document"]) for d in documents] == [without_time(e) for e in expected]
            assert page.json()["next_since"] == documents[-1]["cursor"]
            later = client.get(SUMMARIES.format(body=body), params={"since": documents[-1]["cursor"]}, headers=headers)
            assert later.json() == {"documents": [], "next_since": documents[-1]["cursor"]}
            assert (body, "summary") not in transfers(hub)  # reading is not the transfer

            ids = [d["id"] for d in documents]
            done = client.post(ACKNOWLEDGEMENTS.format(body=body), json={"ids": ids}, headers=headers)
            assert done.json() == {"acknowledged": 1, "already_acknowledged": 0, "refused": []}
            again = client.post(ACKNOWLEDGEMENTS.format(body=body), json={"ids": ids}, headers=headers)
            assert again.json() == {"acknowledged": 0, "already_acknowledged": 1, "refused": []}
        assert sorted(transfers(hub)) == [("caritas", "summary"), ("jobcenter", "summary")]
        assert {e.actor.rsplit(":", 1)[0] for e in entries(hub, "transfer.summary")} == {"api:caritas", "api:jobcenter"}
        calls = [(e.actor.rsplit(":", 1)[0], e.detail["status"], e.detail.get("body")) for e in entries(hub, "api.call")]
        assert calls.count(("api:caritas", 200, "caritas")) == 4  # two reads, two acknowledgements
        assert len(entries(hub, "summaries.collect")) == 4  # every read of person-level data
    finally:
        twin.close()


def test_another_body_a_body_that_does_not_collect_and_a_missing_scope_are_refused(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas"))
    client = client_of(hub)
    jobcenter = bearer(hub, "jobcenter")
    caritas_delivering = bearer(hub, "caritas", "deliver", "receipts")
    for path in (SUMMARIES.format(body="caritas"), SUMMARIES.format(body="nowhere"), SUMMARIES.format(body="jobcenter")):
        answer = client.get(path, headers=jobcenter)  # another body's, none, its own but not collecting
        assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}
    assert client.get(SUMMARIES.format(body="caritas"), headers=caritas_delivering).status_code == 403
    assert client.get(SUMMARIES.format(body="caritas")).status_code == 401
    [document] = client.get(SUMMARIES.format(body="caritas"), headers=bearer(hub, "caritas")).json()["documents"]
    stolen = client.post(ACKNOWLEDGEMENTS.format(body="caritas"), json={"ids": [document["id"]]}, headers=jobcenter)
    assert stolen.status_code == 404 and ("caritas", "summary") not in transfers(hub)


def test_ids_not_held_for_the_body_are_refused_without_saying_why_and_bad_requests_answer_422(hub: Hub) -> None:
    samira_pushed(collecting(hub, "caritas", "jobcenter"))
    client = client_of(hub)
    caritas, jobcenter = bearer(hub, "caritas"), bearer(hub, "jobcenter")
    [theirs] = client.get(SUMMARIES.format(body="jobcenter"), headers=jobcenter).json()["documents"]
    unknown, malformed = "0" * 32, "not-an-id"
    answer = client.post(
        ACKNOWLEDGEMENTS.format(body="caritas"), json={"ids": [theirs["id"], unknown, malformed]}, headers=caritas
    )
    assert answer.status_code == 200
    assert answer.json() == {"acknowledged": 0, "already_acknowledged": 0, "refused": [theirs["id"], unknown, malformed]}
    assert transfers(hub) == []
    for bad in ({"ids": "x"}, {"other": []}, {"ids": ["a"] * 1001}):
        assert client.post(ACKNOWLEDGEMENTS.format(body="caritas"), json=bad, headers=caritas).status_code == 422
    for since in ("-1", "x"):
        assert client.get(SUMMARIES.format(body="caritas"), params={"since": since}, headers=caritas).status_code == 422
    assert client.get(SUMMARIES.format(body="caritas"), params={"limit": 0}, headers=caritas).status_code == 422


PERSONS = (("Haddad", "Samira", "1988-03-14"), ("Testova", "Marta", "1975-11-02"), ("Rahimi", "Ahmad", "1990-06-21"))


def person(record_id: str, n: int, withdrawn: str = "") -> str:
    """Person ``n`` of ``PERSONS`` under ``record_id`` (an exchange row consenting to kim)."""
    family, given, born = PERSONS[n]
    updated = withdrawn or "2026-11-20"
    return f"{record_id},{family},{given},{born},F,SYR,Testweg {n},51373,active,2026-01-15,kim,{withdrawn},{updated}"


def test_pages_follow_the_cursor_and_a_withdrawal_follows_the_acknowledged_summary(hub: Hub) -> None:
    collecting(hub, "caritas")
    hub.drop("caritas", "c.csv", exchange_csv(*(person(f"C-{n}", n) for n in range(3))))
    hub.drop("jobcenter", "j.csv", exchange_csv(*(person(f"962D00000{n}", n) for n in range(3))))
    hub.sync()
    hub.push(TODAY)
    client = client_of(hub)
    headers = bearer(hub, "caritas")
    seen: list[dict[str, object]] = []
    since = None
    while True:
        params = {"limit": 2} | ({"since": since} if since is not None else {})
        page = client.get(SUMMARIES.format(body="caritas"), params=params, headers=headers).json()
        if not page["documents"]:
            break
        seen += page["documents"]
        since = page["next_since"]
    assert len(seen) == 3 and len({d["id"] for d in seen}) == 3
    assert sorted(d["document"]["record_id"] for d in seen) == ["C-0", "C-1", "C-2"]
    client.post(ACKNOWLEDGEMENTS.format(body="caritas"), json={"ids": [d["id"] for d in seen]}, headers=headers)

    hub.drop("jobcenter", "j2.csv", exchange_csv(person("962D000001", 1, withdrawn="2026-11-24")))
    hub.sync()
    hub.push(TODAY)
    [notice] = client.get(SUMMARIES.format(body="caritas"), params={"since": since}, headers=headers).json()["documents"]
    assert notice["kind"] == "withdrawal" and notice["document"]["record_id"] == "C-1"
