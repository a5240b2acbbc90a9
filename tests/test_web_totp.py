"""The local accounts' optional second factor (issue 21, item 1): TOTP enrolment by the operator,
the secret sealed outside the database's reach, and sign-in in two steps where a wrong or reused
code is a failed sign-in and the code step shows up whether the password was right or not.

Through the pipeline and FastAPI's TestClient on the ``hub`` fixture (SQLite and PostgreSQL).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kim_hub.cli.main import main
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.models import AuditEntry, WebSecondFactor, WebSession, WebUser
from kim_hub.pipeline.web_sessions import MAX_FAILURES_PER_ACCOUNT, code_step, password_step, sign_in
from kim_hub.pipeline.web_totp import PendingCode, enrol, open_secret, remove, seal_secret
from kim_hub.pipeline.web_users import add_user
from kim_hub.web.app import create_app
from tests.support import Hub, sqlite_url

PASSWORD = "korrekt-Pferd-Batterie"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def entries(hub: Hub, action: str) -> list[AuditEntry]:
    with hub.sessions() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars())


def secret_of(uri: str) -> str:
    found = re.search(r"secret=([A-Z2-7]+)", uri)
    assert found
    return found.group(1)


def post_password(client: TestClient, name: str, password: str) -> object:
    token = TOKEN.search(client.get("/sign-in").text).group(1)
    return client.post("/sign-in", data={"user": name, "password": password, "csrf": token})


def post_code(client: TestClient, page: str, code: str) -> object:
    return client.post("/sign-in/code", data={"code": code, "csrf": TOKEN.search(page).group(1)})


def test_enrolment_prints_the_secret_once_and_stores_it_only_sealed_under_a_key_file(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "ben", "reviewer", PASSWORD)
    assert main(["users", "totp", "anna", "--home", str(hub.path)]) == 0
    printed = capsys.readouterr().out
    uri = next(line for line in printed.splitlines() if line.startswith("otpauth://totp/"))
    secret = secret_of(uri)
    assert "issuer=kim-hub" in uri and f"secret: {secret}" in printed and len(secret) == 32
    assert main(["users", "list", "--home", str(hub.path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "anna\treviewer\torg=-\tdistrict=-\ttotp",
        "ben\treviewer\torg=-\tdistrict=-",
    ]
    key_file = hub.home.key_dir(hub.config) / "web-totp.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with hub.sessions() as session:
        (stored,) = session.execute(select(WebSecondFactor)).scalars()
        anna = session.execute(select(WebUser).where(WebUser.name == "anna")).scalar_one()
    raw = base64.b32decode(secret)
    assert secret not in stored.sealed_secret and base64.b64encode(raw).decode() not in stored.sealed_secret
    key = base64.b64decode(key_file.read_text())
    assert stored.user_id == anna.id and open_secret(key, "anna", stored.sealed_secret) == secret
    assert open_secret(key, "ben", stored.sealed_secret) is None  # moved to another account: does not open
    assert open_secret(b"\x00" * 32, "anna", stored.sealed_secret) is None  # under another key neither
    assert open_secret(key, "anna", seal_secret(key, "anna", secret)[:-4] + "AAAA") is None  # altered
    with pytest.raises(ConfigError, match="already"):
        enrol(hub.home, "anna")  # not twice: remove first
    for refused in ("niemand", "oidc-0123"):
        with pytest.raises(ConfigError):
            enrol(hub.home, refused)
    assert main(["users", "totp", "anna", "--remove", "--home", str(hub.path)]) == 0
    with hub.sessions() as session:
        assert session.execute(select(WebSecondFactor)).first() is None
    with pytest.raises(ConfigError):
        remove(hub.home, "anna")
    assert [e.detail for e in entries(hub, "users.totp_enrol") + entries(hub, "users.totp_remove")] == [{"user": "anna"}] * 2
    assert secret not in json.dumps([e.detail for e in entries(hub, "users.totp_enrol")])


def test_an_enrolled_account_signs_in_with_password_then_code_and_a_code_counts_once(hub: Hub) -> None:
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    totp = pyotp.TOTP(enrol(hub.home, "anna").secret)
    assert sign_in(hub.home, "anna", PASSWORD, "10.0.0.1") is None  # the password alone no longer signs in
    client = TestClient(create_app(hub.home), follow_redirects=False)
    asked = post_password(client, "anna", PASSWORD)
    assert asked.status_code == 200 and 'action="/sign-in/code"' in asked.text and 'autocomplete="one-time-code"' in asked.text
    assert "kim_session" not in client.cookies and "kim_code" in client.cookies
    code = totp.now()
    done = post_code(client, asked.text, code)
    assert done.status_code == 303 and done.headers["location"] == "/" and "kim_session" in client.cookies
    assert client.get("/").headers["location"] == "/review"
    (signed_in,) = entries(hub, "web.sign_in")
    assert signed_in.actor == "web:anna" and signed_in.detail["second_factor"] == "totp"

    again = TestClient(create_app(hub.home), follow_redirects=False)
    replayed = post_code(again, post_password(again, "anna", PASSWORD).text, code)  # the same code, within its window
    assert replayed.status_code == 401 and 'id="sign-in-error"' in replayed.text and "kim_session" not in again.cookies
    refused = entries(hub, "web.sign_in_refused")
    assert [e.detail for e in refused] == [{"rate_limited": False, "step": "code"}]
    stale = again.post("/sign-in/code", data={"code": totp.now(), "csrf": "x"})
    assert stale.status_code == 401  # the pending sign-in was taken by the failed attempt


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    """SQLite only, for what does not depend on the backend (the two tests above run on both)."""
    opened = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    yield opened
    opened.close()


def test_a_wrong_code_is_a_failed_sign_in_for_the_rate_limit(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    secret = enrol(hub.home, "anna").secret
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    wrong = str((int(totp.at(now)) + 1) % 1_000_000).zfill(6)
    for attempt in range(MAX_FAILURES_PER_ACCOUNT):
        pending = password_step(hub.home, "anna", PASSWORD, f"10.0.0.{attempt}", now=now)
        assert isinstance(pending, PendingCode)
        assert code_step(hub.home, pending, wrong, now=now) is None
    pending = password_step(hub.home, "anna", PASSWORD, "10.0.0.99", now=now)
    assert isinstance(pending, PendingCode) and pending.user_id is None  # limited: the code step cannot succeed
    assert code_step(hub.home, pending, totp.at(now), now=now) is None
    later = now + dt.timedelta(minutes=16)
    pending = password_step(hub.home, "anna", PASSWORD, "10.0.0.99", now=later)
    assert isinstance(pending, PendingCode) and code_step(hub.home, pending, totp.at(later), now=later) is not None
    details = [e.detail for e in entries(hub, "web.sign_in_refused")]
    assert details == [{"rate_limited": False, "step": "code"}] * MAX_FAILURES_PER_ACCOUNT + [{"rate_limited": True}]
    assert "anna" not in json.dumps(details)


def test_the_code_step_looks_the_same_whether_the_password_or_the_account_was_right(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "ben", "reviewer", PASSWORD)  # no second factor: the password alone, as before
    totp = pyotp.TOTP(enrol(hub.home, "anna").secret)
    pages = []
    for name, password in (("anna", PASSWORD), ("anna", "falsch-falsch"), ("niemand", PASSWORD), ("ben", "falsch-falsch")):
        client = TestClient(create_app(hub.home), follow_redirects=False)
        answer = post_password(client, name, password)
        assert answer.status_code == 200 and "kim_code" in client.cookies, name
        pages.append(TOKEN.sub("", answer.text))
        if password != PASSWORD or name == "niemand":
            assert post_code(client, answer.text, totp.now()).status_code == 401  # fails whatever the code
    assert len(set(pages)) == 1
    ben = TestClient(create_app(hub.home), follow_redirects=False)
    assert post_password(ben, "ben", PASSWORD).status_code == 303  # straight in
    with hub.sessions() as session:
        users = {u.id: u.name for u in session.execute(select(WebUser)).scalars()}
        assert [users[s.user_id] for s in session.execute(select(WebSession)).scalars()] == ["ben"]
    # the failed password steps were counted and audited once each, when they failed
    assert [e.detail for e in entries(hub, "web.sign_in_refused")] == [{"rate_limited": False}] * 3
