"""Sign-in through a real OpenID provider in a real browser (issue 21, item 1): a reviewer clicks
"Anmelden mit Stadt-Login", logs in at the provider's own form (panva's oidc-provider, started
by the test: tests/support/oidc_provider.py) and lands on the review queue; a user whose claims
carry no kim-hub role is refused. Signing out of the hub ends the provider's session too
(RP-initiated logout): the next sign-in through the provider asks for the login again.

The application listens on 127.0.0.1, the provider on localhost: to the browser they are two
sites, as the town hall's Keycloak and the hub are. So this also shows that the way back works
with the session cookie's SameSite=Strict: the callback's page moves on to the start page by
itself, a navigation of the hub's own. Screenshots go to the test's tmp folder (printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from kim_hub.pipeline.audit import AuditFilter, list_entries
from kim_hub.pipeline.home import OidcConfig, WebConfig
from tests.support import Hub, review_home, sqlite_url
from tests.support.oidc_provider import CLIENT_ID, ROLES, oidc_provider
from tests.support.servers import free_port, serving_web

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Hub]]:
    """The application on a free port of 127.0.0.1, signing in through the provider on localhost."""
    hub = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    review_home(hub)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider([f"{base}/sign-in/oidc/callback"], [f"{base}/sign-in"]) as provider:
        config = OidcConfig(
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            redirect_url=f"{base}/sign-in/oidc/callback",
            display_name="Stadt-Login",
            scopes=["openid", "kim"],
            roles=dict(ROLES),
            organisation_claim="organisation",
        )
        monkeypatch.setenv(config.client_secret_env, provider.client_secret)
        hub.home.save_config(hub.home.load_config().model_copy(update={"web": WebConfig(oidc=config)}))
        with serving_web(hub.home, port):
            yield base, hub
    hub.close()


def through_provider(page: Page, base: str, login: str, shots: Path, name: str) -> None:
    page.goto(f"{base}/sign-in")
    page.screenshot(path=str(shots / f"{name}-1-sign-in.png"), full_page=True)
    page.get_by_role("link", name="Anmelden mit Stadt-Login").click()
    page.locator('input[name="login"]').fill(login)  # the provider's own form
    page.locator('input[name="password"]').fill("any password")
    page.screenshot(path=str(shots / f"{name}-2-provider.png"), full_page=True)
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_load_state()


def test_a_reviewer_signs_in_through_the_provider_and_a_user_without_role_is_refused(
    site: tuple[str, Hub], browser: Browser, tmp_path: Path
) -> None:
    base, hub = site
    shots = tmp_path / "artifacts"
    shots.mkdir()
    print(f"screenshots: {shots}")
    refused_by_policy: list[str] = []

    reviewer = browser.new_context(locale="de-DE")
    page = reviewer.new_page()
    page.on("console", lambda m: refused_by_policy.append(m.text) if "Content Security Policy" in m.text else None)
    through_provider(page, base, "test-reviewer", shots, "reviewer")
    expect(page).to_have_url(f"{base}/review")
    expect(page.get_by_role("heading", name="Prüfliste")).to_be_visible()
    page.screenshot(path=str(shots / "reviewer-3-review-queue.png"), full_page=True)
    cookies = {c["name"]: c for c in reviewer.cookies(base)}
    assert cookies["kim_session"]["httpOnly"] and cookies["kim_session"]["sameSite"] == "Strict"
    assert "kim_oidc" not in cookies  # the pending sign-in is gone
    (signed_in,) = list_entries(hub.home, AuditFilter(action="web.sign_in"))
    assert signed_in.actor.startswith("web:oidc-") and signed_in.detail["role"] == "reviewer"
    assert signed_in.detail["organisations"] == ["caritas", "jobcenter"]
    # signing out ends the provider's session too (RP-initiated logout): its confirmation page,
    # back to the hub's sign-in page, and the next sign-in through the provider asks for the login
    page.get_by_role("button", name="Abmelden").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider's own page
    expect(page).to_have_url(f"{base}/sign-in")
    page.screenshot(path=str(shots / "reviewer-4-signed-out.png"), full_page=True)
    page.get_by_role("link", name="Anmelden mit Stadt-Login").click()
    expect(page.locator('input[name="login"]')).to_be_visible()
    page.screenshot(path=str(shots / "reviewer-5-provider-asks-again.png"), full_page=True)
    assert page.goto(f"{base}/review") is not None
    expect(page).to_have_url(f"{base}/sign-in")  # and the hub's session is gone
    reviewer.close()

    stranger = browser.new_context(locale="de-DE")
    page = stranger.new_page()
    through_provider(page, base, "test-norole", shots, "norole")
    expect(page.locator("#sign-in-refused")).to_be_visible()
    page.screenshot(path=str(shots / "norole-3-refused.png"), full_page=True)
    assert page.goto(f"{base}/review") is not None
    expect(page).to_have_url(f"{base}/sign-in")
    (refusal,) = list_entries(hub.home, AuditFilter(action="web.sign_in_refused"))
    assert refusal.detail == {"via": "oidc", "reason": "no_role"} and not refusal.actor.startswith("web:oidc-")
    stranger.close()

    assert refused_by_policy == []
    assert len(list(shots.glob("*.png"))) == 8
