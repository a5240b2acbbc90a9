"""Sign-in through an OpenID provider (issue 21, item 1): the claims mapping and its
configuration as units, and the whole authorization code flow with PKCE against a real provider
(panva's oidc-provider, started by the test: tests/support/oidc_provider.py), ending in the same
server-side session a local account gets. On SQLite and PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from collections.abc import Iterator
from html import escape, unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from kim_hub.core.errors import BadInputError, ConfigError
from kim_hub.hub_db.models import AuditEntry, WebSession, WebUser
from kim_hub.pipeline.home import HubConfig, OidcConfig, WebConfig, render_config
from kim_hub.pipeline.oidc_claims import ClaimsGrant, ClaimsRefused, claim_values, map_claims
from kim_hub.pipeline.web_oidc import OidcSignIn, PendingSignIn, PendingSignIns, client_secret
from kim_hub.pipeline.web_sessions import external_account_name, sign_in
from kim_hub.pipeline.web_users import add_user
from kim_hub.web.app import create_app
from tests.support import Hub, sqlite_url
from tests.support.oidc_provider import CLIENT_ID, ROLES, OidcProvider, log_in_at_provider, log_out_at_provider, oidc_provider

APP = "http://127.0.0.1:8765"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
CALLBACK = f"{APP}/sign-in/oidc/callback"
SOURCES = ("caritas", "jobcenter", "awo")


def oidc_config(issuer: str = "https://sso.example/realms/kim", **overrides: object) -> OidcConfig:
    values: dict[str, object] = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "redirect_url": CALLBACK,
        "display_name": "Stadt-Login",
        "roles": dict(ROLES),
        "organisation_claim": "organisation",
        "district_claim": "districts",
        **overrides,
    }
    return OidcConfig.model_validate(values)


# --- the claims mapping ---------------------------------------------------------------------


def test_claim_values_follow_dotted_paths_and_take_strings_only() -> None:
    claims = {"realm_access": {"roles": ["a", 3, "b"]}, "org": "caritas", "deep": {"x": {"y": "z"}}, "n": 5}
    assert claim_values(claims, "realm_access.roles") == ["a", "b"]
    assert claim_values(claims, "org") == ["caritas"]
    assert claim_values(claims, "deep.x.y") == ["z"]
    assert claim_values(claims, "n") == []
    assert claim_values(claims, "realm_access.roles.more") == []
    assert claim_values(claims, "missing.path") == []


def test_claims_map_to_one_role_and_configured_bodies() -> None:
    config = oidc_config()
    claims = {
        "realm_access": {"roles": ["offline_access", "kim-reviewer"]},
        "organisation": ["caritas", "elsewhere"],
        "districts": ["01", "bad code!"],
    }
    assert map_claims(claims, config, SOURCES) == ClaimsGrant("reviewer", ("caritas",), ("01",))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"realm_access": {"roles": ["offline_access"]}, "organisation": "caritas"}, "no_role"),
        ({"organisation": "caritas"}, "no_role"),
        ({"realm_access": {"roles": ["kim-reviewer", "kim-operator"]}, "organisation": "caritas"}, "several_roles"),
        ({"realm_access": {"roles": ["kim-reviewer"]}}, "no_organisation"),  # never "every body" by omission
        ({"realm_access": {"roles": ["kim-reviewer"]}, "organisation": ["unknown"]}, "no_organisation"),
    ],
)
def test_claims_that_grant_nothing_are_refused(claims: dict[str, object], reason: str) -> None:
    assert map_claims(claims, oidc_config(), SOURCES) == ClaimsRefused(reason)  # type: ignore[arg-type]


def test_organisation_mapping_translates_values_and_star_grants_every_body() -> None:
    config = oidc_config(
        organisations={"Caritas Köln": "caritas", "kim-team": "*"},
        roles={"kim-reviewer": "reviewer", "kim-provider": "provider"},
    )
    reviewer = {"realm_access": {"roles": ["kim-reviewer"]}}
    assert map_claims({**reviewer, "organisation": ["Caritas Köln"]}, config, SOURCES) == ClaimsGrant(
        "reviewer", ("caritas",), ()
    )
    assert map_claims({**reviewer, "organisation": ["caritas"]}, config, SOURCES) == ClaimsRefused("no_organisation")
    assert map_claims({**reviewer, "organisation": ["kim-team"]}, config, SOURCES) == ClaimsGrant("reviewer", (), ())
    provider = {"realm_access": {"roles": ["kim-provider"]}, "organisation": ["kim-team"]}
    assert map_claims(provider, config, SOURCES) == ClaimsRefused("provider_needs_one_body")
    without_claim = oidc_config(organisation_claim="")
    assert map_claims(reviewer, without_claim, SOURCES) == ClaimsGrant("reviewer", (), ())


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"issuer": "http://sso.example/realms/kim"}, "https"),
        ({"redirect_url": "https://kim.example/elsewhere"}, "/sign-in/oidc/callback"),
        ({"roles": {}}, "at least one"),
        ({"roles": {"kim-reviewer": "admin"}}, "must be one of"),
        ({"organisations": {"x": "Not A Source"}}, "source name"),
        ({"role_claim": "realm_access..roles"}, "dotted path"),
        ({"scopes": ["openid profile"]}, "one word"),
        ({"client_secret_file": "../secret"}, "client_secret_file"),
    ],
)
def test_config_refuses_what_cannot_work(overrides: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        oidc_config(**overrides)


def test_config_round_trips_through_hub_toml_without_a_secret() -> None:
    config = HubConfig(web=WebConfig(oidc=oidc_config(organisations={"Caritas Köln": "caritas"})))
    text = render_config(config)
    assert "[web.oidc]" in text and "secret =" not in text.replace("client_secret_", "")
    assert HubConfig.model_validate(tomllib.loads(text)) == config
    assert HubConfig.model_validate(tomllib.loads(render_config(HubConfig()))).web.oidc is None
    assert "# [web.oidc]" in render_config(HubConfig())


def test_client_secret_from_environment_else_an_owner_only_file(sqlite_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    config = oidc_config()
    monkeypatch.delenv(config.client_secret_env, raising=False)
    hub = sqlite_hub
    with pytest.raises(ConfigError, match="no client secret"):
        client_secret(hub.home, config)
    secret_file = hub.home.key_dir(hub.config) / config.client_secret_file
    secret_file.write_text("from-file\n")
    secret_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        client_secret(hub.home, config)
    secret_file.chmod(0o600)
    assert client_secret(hub.home, config) == "from-file"
    monkeypatch.setenv(config.client_secret_env, "from-env")
    assert client_secret(hub.home, config) == "from-env"
    assert client_secret(hub.home, oidc_config(public_client=True)) is None


def test_pending_sign_ins_are_taken_once() -> None:
    store = PendingSignIns()
    pending = PendingSignIn("s", "n", "v")
    cookie = store.add(pending)
    assert store.take("another") is None
    assert store.take(cookie) == pending
    assert store.take(cookie) is None


def test_local_accounts_cannot_take_the_providers_names(sqlite_hub: Hub) -> None:
    with pytest.raises(ConfigError, match="oidc-"):
        add_user(sqlite_hub.home, "oidc-someone", "reviewer", "korrekt-Pferd-Batterie")


# --- the whole flow against a real provider ---------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with oidc_provider([CALLBACK], [f"{APP}/sign-in"]) as started:
        yield started


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    """A home on SQLite only, for what does not depend on the backend (the session tables are
    exercised on both by the ``hub`` tests below)."""
    opened = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    yield opened
    opened.close()


def with_provider(hub: Hub, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> Hub:
    """The hub with [web.oidc] pointing at the test provider (the secret in the environment)."""
    config = oidc_config(provider.issuer, scopes=["openid", "kim"])
    monkeypatch.setenv(config.client_secret_env, provider.client_secret)
    hub.config = hub.home.load_config().model_copy(update={"web": WebConfig(oidc=config)})
    hub.home.save_config(hub.config)
    return hub


@pytest.fixture
def oidc_hub(hub: Hub, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> Hub:
    return with_provider(hub, provider, monkeypatch)


@pytest.fixture
def oidc_sqlite_hub(sqlite_hub: Hub, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> Hub:
    return with_provider(sqlite_hub, provider, monkeypatch)


def sign_in_through_provider(hub: Hub, account: str, at_provider: httpx.Client | None = None) -> tuple[TestClient, object]:
    """The application's client after the provider sent it back; and the callback's answer.
    ``at_provider``: the browser's cookies at the provider (its session), else a fresh browser."""
    client = TestClient(create_app(hub.home), base_url=APP, follow_redirects=False)
    page = client.get("/sign-in")
    assert 'href="/sign-in/oidc"' in page.text and "Stadt-Login" in page.text
    start = client.get("/sign-in/oidc")
    assert start.status_code == 303
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"] and asked["nonce"] and asked["state"]
    assert "code_verifier" not in asked
    pending_cookie = start.headers["set-cookie"]
    assert "HttpOnly" in pending_cookie and "samesite=lax" in pending_cookie.lower() and "Path=/sign-in/oidc" in pending_cookie
    back = log_in_at_provider(start.headers["location"], account, CALLBACK, at_provider)
    return client, client.get(back.removeprefix(APP))


def audit_actions(hub: Hub) -> list[tuple[str, str, dict[str, object]]]:
    with hub.sessions() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action.like("web.sign_in%")).order_by(AuditEntry.id))
        return [(row.action, row.actor, dict(row.detail or {})) for row in rows.scalars()]


def test_a_reviewer_signs_in_through_the_provider_into_a_local_session(oidc_hub: Hub, provider: OidcProvider) -> None:
    client, answer = sign_in_through_provider(oidc_hub, "test-reviewer")
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    assert 'http-equiv="refresh"' in answer.text  # type: ignore[attr-defined]
    assert client.get("/").headers["location"] == "/review"
    queue = client.get("/review")
    assert queue.status_code == 200 and "caritas~jobcenter" in queue.text  # its granted pair, and only that
    assert "awo~" not in queue.text
    assert client.get("/sources").status_code == 404  # the operator's page is not the reviewer's
    name = external_account_name(provider.issuer, "test-reviewer")
    with oidc_hub.sessions() as session:
        user = session.execute(select(WebUser).where(WebUser.name == name)).scalar_one()
        assert (user.role, user.organisations, user.districts) == ("reviewer", ["caritas", "jobcenter"], ["01"])
        assert session.execute(select(WebSession).where(WebSession.user_id == user.id)).scalar_one()
    assert (
        "web.sign_in",
        f"web:{name}",
        {"role": "reviewer", "organisations": ["caritas", "jobcenter"], "districts": ["01"], "via": "oidc"},
    ) in audit_actions(oidc_hub)
    stored = repr(audit_actions(oidc_hub)) + repr(name)
    assert "test-reviewer" not in stored  # neither the login nor the subject in clear
    assert sign_in(oidc_hub.home, name, "!oidc", "127.0.0.1") is None  # no password signs the account in locally


@pytest.mark.parametrize("account", ["test-norole", "test-tworoles"])
def test_claims_without_one_role_are_refused_and_audited_without_the_name(oidc_hub: Hub, account: str) -> None:
    client, answer = sign_in_through_provider(oidc_hub, account)
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert 'id="sign-in-refused"' in answer.text  # type: ignore[attr-defined]
    assert client.get("/review").headers["location"] == "/sign-in"
    refused = [detail for action, _, detail in audit_actions(oidc_hub) if action == "web.sign_in_refused"]
    assert refused == [{"via": "oidc", "reason": "no_role" if account == "test-norole" else "several_roles"}]
    with oidc_hub.sessions() as session:
        assert session.execute(select(WebUser).where(WebUser.name.like("oidc-%"))).first() is None


def landing(at_provider: httpx.Client, url: str) -> str | httpx.Response:
    """Where the provider's redirects end: the address back to the application, or its own page."""
    for _ in range(10):
        answer = at_provider.get(url)
        if "location" not in answer.headers:
            return answer
        url = urljoin(str(answer.url), answer.headers["location"])
        if url.startswith(APP):
            return url
    raise AssertionError("too many redirects")


def test_signing_out_ends_the_session_at_the_provider_too(oidc_sqlite_hub: Hub, provider: OidcProvider) -> None:
    """RP-initiated logout: the hub's sign-out page sends the browser on to the provider's
    end_session_endpoint with the sign-in's ID token as hint; after confirming there, the provider
    asks for the login again (before, its session would have signed the user straight back in)."""
    with httpx.Client(timeout=10) as at_provider:
        client, answer = sign_in_through_provider(oidc_sqlite_hub, "test-reviewer", at_provider)
        assert answer.status_code == 200  # type: ignore[attr-defined]
        silent = TestClient(create_app(oidc_sqlite_hub.home), base_url=APP, follow_redirects=False)
        again = landing(at_provider, silent.get("/sign-in/oidc").headers["location"])
        assert isinstance(again, str) and again.startswith(CALLBACK)  # the provider's session signs in without asking
        token = TOKEN.search(client.get("/review").text).group(1)
        out = client.post("/sign-out", data={"csrf": token})
        assert out.status_code == 200 and "kim_session" not in client.cookies
        onward = unescape(re.search(r'<a href="([^"]+)" id="continue"', out.text).group(1))
        assert f'content="0; url={escape(onward)}"' in out.text and "Stadt-Login" in out.text
        assert onward.startswith(f"{provider.issuer}/session/end?")
        asked = parse_qs(urlsplit(onward).query)
        assert asked["client_id"] == [CLIENT_ID] and asked["post_logout_redirect_uri"] == [f"{APP}/sign-in"]
        payload = asked["id_token_hint"][0].split(".")[1]
        assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"] == "test-reviewer"
        assert client.get("/review").headers["location"] == "/sign-in"  # ended here
        assert log_out_at_provider(onward, f"{APP}/sign-in", at_provider) == f"{APP}/sign-in"
        login = landing(at_provider, silent.get("/sign-in/oidc").headers["location"])
        assert isinstance(login, httpx.Response) and 'name="login"' in login.text  # ended there too: it asks
    local = TestClient(create_app(oidc_sqlite_hub.home), base_url=APP, follow_redirects=False)
    add_user(oidc_sqlite_hub.home, "anna", "reviewer", "korrekt-Pferd-Batterie")
    form = TOKEN.search(local.get("/sign-in").text).group(1)
    local.post("/sign-in", data={"user": "anna", "password": "korrekt-Pferd-Batterie", "csrf": form})
    out = local.post("/sign-out", data={"csrf": TOKEN.search(local.get("/review").text).group(1)})
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")  # a local account: the hub alone


def test_a_callback_without_its_pending_sign_in_or_replayed_is_refused(oidc_sqlite_hub: Hub) -> None:
    client, answer = sign_in_through_provider(oidc_sqlite_hub, "test-reviewer")
    assert answer.status_code == 200  # type: ignore[attr-defined]
    replay = client.get(str(answer.request.url).removeprefix(APP))  # type: ignore[attr-defined]
    assert replay.status_code == 401  # the pending sign-in was taken once
    stranger = TestClient(create_app(oidc_sqlite_hub.home), base_url=APP, follow_redirects=False)
    assert stranger.get("/sign-in/oidc/callback?code=x&state=y").status_code == 401
    reasons = [detail["reason"] for action, _, detail in audit_actions(oidc_sqlite_hub) if action == "web.sign_in_refused"]
    assert reasons == ["no_pending_sign_in", "no_pending_sign_in"]


def test_a_foreign_state_and_a_wrong_nonce_are_refused(oidc_sqlite_hub: Hub, provider: OidcProvider) -> None:
    config = oidc_sqlite_hub.config.web.oidc
    assert config is not None
    flow = OidcSignIn(config, provider.client_secret)
    url, pending = flow.begin()
    back = parse_qs(urlsplit(log_in_at_provider(url, "test-reviewer", CALLBACK)).query)
    answer = {key: values[0] for key, values in back.items()}
    with pytest.raises(BadInputError, match="does not belong"):
        flow.finish(PendingSignIn("another state", pending.nonce, pending.code_verifier), answer)
    with pytest.raises(BadInputError, match="ID token is not valid"):
        flow.finish(PendingSignIn(pending.state, "another nonce", pending.code_verifier), answer)
    url, pending = flow.begin()
    back = parse_qs(urlsplit(log_in_at_provider(url, "test-reviewer", CALLBACK)).query)
    answer = {key: values[0] for key, values in back.items()}
    with pytest.raises(BadInputError, match="refused to exchange"):
        flow.finish(PendingSignIn(pending.state, pending.nonce, "a verifier that is not the one challenged" + "x" * 10), answer)
    claims = flow.finish(pending, answer)
    assert claims["sub"] == "test-reviewer" and claims["iss"] == provider.issuer and claims["aud"] == CLIENT_ID


def test_a_disabled_account_and_an_unconfigured_installation(oidc_sqlite_hub: Hub, provider: OidcProvider) -> None:
    from kim_hub.pipeline.web_users import disable_user

    sign_in_through_provider(oidc_sqlite_hub, "test-reviewer")
    disable_user(oidc_sqlite_hub.home, external_account_name(provider.issuer, "test-reviewer"))
    _, answer = sign_in_through_provider(oidc_sqlite_hub, "test-reviewer")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    oidc_sqlite_hub.home.save_config(oidc_sqlite_hub.config.model_copy(update={"web": WebConfig()}))
    client = TestClient(create_app(oidc_sqlite_hub.home), base_url=APP, follow_redirects=False)
    assert "sign-in/oidc" not in client.get("/sign-in").text
    assert client.get("/sign-in/oidc").headers["location"] == "/sign-in"  # does not exist: to sign-in, as any address


def test_a_missing_client_secret_refuses_with_the_same_page_not_an_error(
    oidc_sqlite_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = oidc_sqlite_hub.config.web.oidc
    assert config is not None
    monkeypatch.delenv(config.client_secret_env)
    client = TestClient(create_app(oidc_sqlite_hub.home), base_url=APP, follow_redirects=False)
    answer = client.get("/sign-in/oidc")
    assert answer.status_code == 401 and 'id="sign-in-refused"' in answer.text
    assert [detail for _, _, detail in audit_actions(oidc_sqlite_hub)] == [{"via": "oidc", "reason": "configuration"}]


def test_the_provider_fixture_fails_loudly_without_node_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tests.support.oidc_provider as support

    monkeypatch.setattr(support, "PROVIDER_DIR", tmp_path)
    with pytest.raises(AssertionError, match="npm ci --prefix tests/support/oidc"), oidc_provider([CALLBACK]):
        pass
