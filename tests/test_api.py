"""The providers' HTTP API (issue 22, first slice): tokens with least privilege, deliveries through
the drop folder's path, receipts, limits, the audit of every call, and the checked-in OpenAPI
document.

Through FastAPI's TestClient on the ``hub`` fixture (SQLite and PostgreSQL); over a real server
with ``requests``: tests/e2e/test_api_delivery.py; the contract fuzzed: tests/test_api_contract.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from kim_hub.cli.main import main
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.models import ApiToken, AuditEntry, IngestFile, SourceRecord
from kim_hub.pipeline import api_deliveries
from kim_hub.pipeline.api_limits import RateLimiter
from kim_hub.pipeline.api_tokens import authenticate, issue_token, list_tokens, revoke_token, rotate_token
from kim_hub.web.api import openapi_text
from kim_hub.web.app import create_app
from tests.support import Hub
from tests.support.data import FLAWED, GOOD, HEADER, UNATTRIBUTABLE
from tests.support.files import csv_text

DOCUMENT = Path(__file__).parents[1] / "docs" / "hub-api.openapi.json"
DELIVERIES = "/api/v1/sources/caritas/deliveries"
CANARIES = ("Haddad", "Samira", "Testweg", "1988-03-14", "Quux", "Yara", "31.02.1990", "12345")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_of(hub: Hub) -> TestClient:
    return TestClient(create_app(hub.home), follow_redirects=False)


def issued(hub: Hub, body: str = "caritas", scopes: tuple[str, ...] = ("deliver", "receipts")) -> str:
    return issue_token(hub.home, body, scopes, dt.timedelta(days=90))[0]


def set_api(hub: Hub, **limits: int) -> None:
    hub.config = hub.config.model_copy(update={"api": hub.config.api.model_copy(update=limits)})
    hub.home.save_config(hub.config)


def upload(content: str, name: str = "export.csv") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content.encode("utf-8"), "text/csv")}


def api_calls(hub: Hub) -> list[AuditEntry]:
    with hub.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id)
        return list(session.execute(query).scalars())


def stored_files(hub: Hub) -> int:
    with hub.sessions() as session:
        return len(session.execute(select(IngestFile.id)).all())


# --- tokens ---------------------------------------------------------------------------------------------


def test_a_token_is_printed_once_and_stored_only_as_its_hash(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["tokens", "issue", "--body", "caritas", "--scope", "deliver,receipts", "--expires", "90d", "--home", str(hub.path)])
        == 0
    )
    token = capsys.readouterr().out.strip()
    with hub.sessions() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        columns = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not [value for value in columns if token in value or token[5:] in value]
    assert (row.body, row.scopes) == ("caritas", ["deliver", "receipts"])
    assert (
        dt.timedelta(days=89)
        < row.expires_at.replace(tzinfo=dt.UTC) - row.created_at.replace(tzinfo=dt.UTC)
        <= dt.timedelta(days=90)
    )
    assert main(["tokens", "list", "--home", str(hub.path)]) == 0
    listing = capsys.readouterr().out
    assert "caritas\tdeliver,receipts\tactive" in listing and token not in listing
    dumped = json.dumps([(e.actor, e.action, e.detail) for e in _all_entries(hub)])
    assert "tokens.issue" in dumped and token not in dumped


def _all_entries(hub: Hub) -> list[AuditEntry]:
    with hub.sessions() as session:
        return list(session.execute(select(AuditEntry)).scalars())


def test_a_token_is_refused_for_an_unknown_body_a_scope_that_does_not_exist_or_an_endless_life(hub: Hub) -> None:
    with pytest.raises(ConfigError, match="names no source"):
        issue_token(hub.home, "nobody", ["deliver"], dt.timedelta(days=1))
    with pytest.raises(ConfigError, match="--scope"):
        issue_token(hub.home, "caritas", ["deliver", "search"], dt.timedelta(days=1))
    with pytest.raises(ConfigError, match="--expires"):
        issue_token(hub.home, "caritas", ["deliver"], dt.timedelta(days=3650))


def test_an_expired_or_revoked_or_unknown_token_answers_401_without_detail(hub: Hub) -> None:
    client = client_of(hub)
    expiring, revoked = issued(hub), issued(hub)
    assert client.get("/api/v1/sources/caritas/receipts", headers=bearer(expiring)).status_code == 200
    with hub.sessions() as session, session.begin():
        session.execute(
            update(ApiToken).where(ApiToken.id == 1).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    revoke_token(hub.home, 2)
    unknown = "kimh_" + "A" * 43
    for headers in (bearer(expiring), bearer(revoked), bearer(unknown), {"Authorization": "Basic x"}, {}):
        answer = client.get("/api/v1/sources/caritas/receipts", headers=headers)
        assert (answer.status_code, answer.content, answer.headers["www-authenticate"]) == (401, b"", "Bearer")
    assert [t.state(dt.datetime.now(dt.UTC)) for t in list_tokens(hub.home)] == ["expired", "revoked"]
    refused = [e for e in api_calls(hub) if e.detail["status"] == 401]
    assert len(refused) == 5 and {e.actor for e in refused} == {"api:unauthenticated"}


def test_a_rotated_token_works_beside_its_successor_until_the_overlap_ends(hub: Hub) -> None:
    old = issued(hub)
    new, info = rotate_token(hub.home, 1, dt.timedelta(days=7))
    assert authenticate(hub.home, old) is not None and authenticate(hub.home, new).id == info.id == 2
    tokens = {t.id: t for t in list_tokens(hub.home)}
    left = tokens[1].expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=6, hours=23) < left <= dt.timedelta(days=7)
    assert tokens[2].scopes == ("deliver", "receipts") and tokens[2].body == "caritas"
    with hub.sessions() as session, session.begin():  # the overlap is over
        session.execute(
            update(ApiToken).where(ApiToken.id == 1).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert authenticate(hub.home, old) is None and authenticate(hub.home, new) is not None
    with pytest.raises(ConfigError, match="no active token"):
        rotate_token(hub.home, 1, dt.timedelta(days=7))


def test_a_token_without_the_operations_scope_is_refused_and_nothing_is_stored(hub: Hub) -> None:
    client = client_of(hub)
    reader = issued(hub, scopes=("receipts",))
    deliverer = issued(hub, scopes=("deliver",))
    assert client.post(DELIVERIES, headers=bearer(reader), files=upload(csv_text(GOOD, HEADER))).status_code == 403
    assert client.get("/api/v1/sources/caritas/receipts", headers=bearer(deliverer)).status_code == 403
    assert stored_files(hub) == 0


def test_another_bodys_source_answers_like_a_source_that_does_not_exist(hub: Hub) -> None:
    client = client_of(hub)
    awo = issued(hub, body="awo")
    caritas = issued(hub)
    assert client.post(DELIVERIES, headers=bearer(caritas), files=upload(csv_text(GOOD, HEADER))).status_code == 200
    key = client.get("/api/v1/sources/caritas/receipts", headers=bearer(caritas)).json()["receipts"][0]["id"]
    answers = [
        client.post(DELIVERIES, headers=bearer(awo), files=upload(csv_text(GOOD, HEADER))),
        client.get("/api/v1/sources/caritas/receipts", headers=bearer(awo)),
        client.get(f"/api/v1/sources/caritas/receipts/{key}", headers=bearer(awo)),
        client.get("/api/v1/sources/no-such-source/receipts", headers=bearer(awo)),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(404, {"detail": "Not Found"})] * 4
    assert stored_files(hub) == 1
    assert client.get("/api/v1/sources/awo/receipts", headers=bearer(awo)).json() == {"receipts": []}


# --- deliveries -------------------------------------------------------------------------------------------


def test_a_delivery_answers_its_receipt_by_row_and_field_never_a_value_and_is_audited(hub: Hub) -> None:
    client = client_of(hub)
    token = issued(hub)
    answer = client.post(DELIVERIES, headers=bearer(token), files=upload(csv_text(GOOD + FLAWED + UNATTRIBUTABLE, HEADER)))
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert (receipt["status"], receipt["rows_total"], receipt["accepted"], receipt["rejected"], receipt["noted"]) == (
        "done_with_notes",
        7,
        5,
        2,
        2,
    )
    assert {(r["row"], r["field"]) for r in receipt["rejections"]} == {(7, "record_id"), (8, "family_name")}
    assert {(n["row"], n["field"]) for n in receipt["notes"]} >= {(4, "birth_date"), (6, "nationality"), (6, "azr_number")}
    assert not [c for c in CANARIES if c in answer.text]
    with hub.sessions() as session:
        assert sorted(session.execute(select(SourceRecord.record_id)).scalars()) == ["C-1", "C-2", "C-3", "C-4", "C-5"]
    assert list((hub.path / "archive" / "caritas").iterdir())[0].name == f"api-{receipt['id']}.csv"  # never the sender's name
    assert not list((hub.path / "processing" / "caritas").iterdir())
    listed = client.get("/api/v1/sources/caritas/receipts", headers=bearer(token)).json()["receipts"]
    assert [r["id"] for r in listed] == [receipt["id"]]
    assert client.get(f"/api/v1/sources/caritas/receipts/{receipt['id']}", headers=bearer(token)).json() == receipt
    calls = api_calls(hub)
    assert [(e.actor, e.detail["operation"], e.detail["status"], e.detail["source"]) for e in calls] == [
        ("api:caritas:1", op, 200, "caritas") for op in ("deliveries.post", "receipts.list", "receipts.get")
    ]
    assert all(
        e.objects == [f"file:caritas:{hashlib.sha256(csv_text(GOOD + FLAWED + UNATTRIBUTABLE, HEADER).encode()).hexdigest()}"]
        for e in calls
    )
    with hub.sessions() as session:
        ingest = session.execute(select(AuditEntry).where(AuditEntry.action == "ingest.file")).scalar_one()
    assert ingest.actor == "api:caritas:1"


def test_the_same_content_or_idempotency_key_answers_the_same_receipt_and_another_content_under_the_key_409(hub: Hub) -> None:
    client = client_of(hub)
    token = issued(hub)
    first = client.post(DELIVERIES, headers={**bearer(token), "Idempotency-Key": "k-1"}, files=upload(csv_text(GOOD, HEADER)))
    again = client.post(
        DELIVERIES, headers={**bearer(token), "Idempotency-Key": "k-1"}, files=upload(csv_text(GOOD, HEADER), "other.csv")
    )
    no_key = client.post(DELIVERIES, headers=bearer(token), files=upload(csv_text(GOOD, HEADER)))
    assert first.status_code == again.status_code == no_key.status_code == 200
    assert first.json() == again.json() == no_key.json() and first.json()["status"] == "done"
    assert first.json()["accepted"] == 2
    conflict = client.post(
        DELIVERIES, headers={**bearer(token), "Idempotency-Key": "k-1"}, files=upload(csv_text(FLAWED, HEADER))
    )
    assert conflict.status_code == 409
    assert stored_files(hub) == 1 and len(list((hub.path / "archive" / "caritas").iterdir())) == 1


def test_a_json_batch_of_case_records_lands_like_the_csv_rows(hub: Hub) -> None:
    client = client_of(hub)
    token = issued(hub)
    records = [
        {
            "record_id": "C-1",
            "family_name": "Haddad",
            "given_names": "Samira",
            "birth_date": "1988-03-14",
            "updated_at": "2026-11-01T09:00:00+01:00",
        },
        {"record_id": "", "family_name": "Quux", "given_names": "Yara", "updated_at": "2026-11-01T09:00:00+01:00"},
    ]
    answer = client.post(DELIVERIES, headers=bearer(token), json={"records": records})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["accepted"], [(r["row"], r["field"]) for r in answer.json()["rejections"]]) == (1, [(2, "record_id")])
    assert client.post(DELIVERIES, headers=bearer(token), json={"rows": []}).status_code == 422
    malformed = {**bearer(token), "Content-Type": "application/json"}
    assert client.post(DELIVERIES, headers=malformed, content=b'{"records": [').status_code == 422
    assert client.post(DELIVERIES, headers=bearer(token), files={"other": ("x.csv", b"a", "text/csv")}).status_code == 422
    assert (
        client.post(DELIVERIES, headers={**bearer(token), "Idempotency-Key": "with space"}, json={"records": []}).status_code
        == 422
    )
    assert client.post(DELIVERIES, headers={**bearer(token), "Content-Type": "text/plain"}, content=b"x").status_code == 415


def test_a_large_delivery_answers_202_and_its_receipt_is_polled(hub: Hub) -> None:
    set_api(hub, async_bytes=0)
    client = client_of(hub)
    token = issued(hub)
    answer = client.post(DELIVERIES, headers=bearer(token), files=upload(csv_text(GOOD, HEADER)))
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    assert answer.headers["location"] == answer.json()["receipt_url"]
    polled = client.get(answer.json()["receipt_url"], headers=bearer(token))  # TestClient ran the ingest after the answer
    assert polled.status_code == 200 and polled.json()["accepted"] == 2


# --- limits ------------------------------------------------------------------------------------------


def test_a_request_larger_than_the_limit_answers_413_and_nothing_is_stored(hub: Hub) -> None:
    set_api(hub, max_request_bytes=1024)
    client = client_of(hub)
    token = issued(hub)
    big = csv_text(GOOD * 20, HEADER)
    assert len(big) > 1024
    assert client.post(DELIVERIES, headers=bearer(token), files=upload(big)).status_code == 413
    chunked = client.post(
        DELIVERIES, headers={**bearer(token), "Content-Type": "application/json"}, content=iter([b"{" + b" " * 2000, b"}"])
    )
    assert chunked.status_code == 413
    assert stored_files(hub) == 0


def test_too_many_calls_of_a_token_answer_429_with_retry_after(hub: Hub) -> None:
    set_api(hub, requests_per_minute=2)
    client = client_of(hub)
    token, other = issued(hub), issued(hub)
    answers = [client.get("/api/v1/sources/caritas/receipts", headers=bearer(token)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    refused = client.get("/api/v1/sources/caritas/receipts", headers=bearer(token))
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.get("/api/v1/sources/caritas/receipts", headers=bearer(other)).status_code == 200  # per token


def test_the_rate_limit_frees_a_call_once_the_minute_has_passed() -> None:
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.admit(1, 2) for _ in range(3)] == [None, None, 60]
    now[0] += 30
    assert limiter.admit(1, 2) == 30
    now[0] += 30.5
    assert limiter.admit(1, 2) is None


def test_a_bodys_delivered_bytes_per_day_are_limited_with_retry_after(hub: Hub) -> None:
    set_api(hub, daily_bytes=1024)
    client = client_of(hub)
    token = issued(hub)
    first = csv_text(GOOD * 6, HEADER)
    second = csv_text(FLAWED * 3, HEADER)
    assert 512 < len(first) < 1024 and len(first) + len(second) > 1024
    assert client.post(DELIVERIES, headers=bearer(token), files=upload(first)).status_code == 200
    refused = client.post(DELIVERIES, headers=bearer(token), files=upload(second))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 86_400
    assert stored_files(hub) == 1


# --- the document ---------------------------------------------------------------------------------------


def test_the_checked_in_document_is_the_one_the_code_generates() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_text(), "run `make openapi` and check the document in"


def test_the_api_publishes_its_document_and_the_pages_still_publish_none(hub: Hub) -> None:
    client = client_of(hub)
    assert client.get("/api/v1/openapi.json").json() == json.loads(openapi_text())
    for path in ("/openapi.json", "/docs", "/api/v1/docs"):
        assert client.get(path).status_code in (303, 404)


def test_every_address_under_the_prefix_is_the_apis_even_with_an_encoded_line_break(hub: Hub) -> None:
    client = client_of(hub)
    token = issued(hub)
    for path in ("/api/v1/sources/%0Acaritas/receipts", "/api/v1/sources/ca%0Dritas/receipts/0123456789abcdef"):
        assert client.get(path).status_code == 401
        answer = client.get(path, headers=bearer(token))
        assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})


def test_content_already_dropped_answers_the_drop_files_receipt_without_a_second_ingest(hub: Hub) -> None:
    hub.drop_rows("caritas", "export.csv", GOOD)
    hub.ingest("caritas")
    client = client_of(hub)
    answer = client.post(DELIVERIES, headers=bearer(issued(hub)), files=upload(csv_text(GOOD, HEADER)))
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["accepted"]) == ("done", 2)
    assert stored_files(hub) == 1
    assert not list((hub.path / "processing" / "caritas").glob("*"))
    assert len(list((hub.path / "archive" / "caritas").iterdir())) == 1


def test_a_busy_database_answers_503_before_the_upload_and_202_after_it_and_the_next_sync_takes_the_file(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_of(hub)
    token = issued(hub)

    def busy(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    with monkeypatch.context() as patched:
        patched.setattr(api_deliveries, "open_sessions", busy)
        refused = client.post(DELIVERIES, headers=bearer(token), files=upload(csv_text(GOOD, HEADER)))
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "10")
    assert not list((hub.path / "processing" / "caritas").glob("*"))
    with monkeypatch.context() as patched:
        patched.setattr(api_deliveries, "ingest_delivery", busy)
        taken = client.post(DELIVERIES, headers=bearer(token), files=upload(csv_text(GOOD, HEADER)))
    assert taken.status_code == 202
    waiting = client.get(taken.json()["receipt_url"], headers=bearer(token))
    assert (waiting.status_code, waiting.json()["status"]) == (202, "pending")
    assert stored_files(hub) == 0
    hub.ingest("caritas")  # the next sync run finishes the upload it finds in processing/
    done = client.get(taken.json()["receipt_url"], headers=bearer(token))
    assert (done.status_code, done.json()["accepted"]) == (200, 2)


def test_an_upload_left_half_written_by_a_dead_process_is_removed_when_the_web_application_starts(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    processing = hub.path / "processing" / "caritas"
    processing.mkdir(parents=True, exist_ok=True)
    leftover = processing / ".api-upload-k2j3h4.part"
    leftover.write_text(csv_text(GOOD, HEADER))  # clear data no run lists and no receipt names
    claimed = processing / "export.csv"  # a claimed delivery is a sync's leftover: the sync takes it
    claimed.write_text(csv_text(GOOD, HEADER))
    monkeypatch.setattr("kim_hub.web.server.serve", lambda *args: None)
    assert main(["web", "--home", str(hub.path)]) == 0
    assert not leftover.exists() and claimed.exists()
    assert "removed 1 upload(s)" in capsys.readouterr().out
