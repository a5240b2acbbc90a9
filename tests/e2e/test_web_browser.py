"""The web application in a real browser (Debian's Chromium through pytest-playwright): a reviewer
signs in with the keyboard, opens the queue and a pair, decides with a reason, finds the decision
in the audit log and undoes it; a provider reads its own receipts and gets the not-found page for
another body's; an operator sees the sources and no person-level page.

The real application runs under uvicorn on a free port, in a thread, on a home with synthetic
deliveries and review items (tests.support.review_home). Playwright's own browser download is not
reachable here, so ``browser_type_launch_args`` points pytest-playwright at /usr/bin/chromium.
Every page is saved as a screenshot under the test's tmp folder, ``artifacts/`` (printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kim_hub.hub_db.master_index import field_weights, load_index
from kim_hub.hub_db.models import ModelVersion, ReviewItem
from kim_hub.linkage.link import LazyEncodings
from kim_hub.linkage.model import MatchModel
from kim_hub.pipeline.audit import AuditFilter, list_entries
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub, review_home, sqlite_url
from tests.support.data import CLEAR_IDENTITY
from tests.support.servers import serving_web

PASSWORD = "korrekt-Pferd-Batterie"
pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Hub, dict[str, int]]]:
    """The application served on a free local port; yields its address, the hub and the review items."""
    hub = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    items = review_home(hub)
    with_real_weights(hub, items["across"])
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "vera", "auditor", PASSWORD)
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "otto", "operator", PASSWORD)
    with serving_web(hub.home) as base:
        yield base, hub, items
    hub.close()


def with_real_weights(hub: Hub, item_id: int) -> None:
    """The item's per-field weights as a linking run stores them, under the home's model."""
    with hub.sessions() as session, session.begin():
        arrays = load_index(session)
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc())).scalars().first()
        item = session.get(ReviewItem, item_id)
        encodings = LazyEncodings(arrays)
        model = MatchModel.from_dict(stored.parameters).applied_to(arrays)
        item.weights = field_weights(encodings[item.record_a], encodings[item.record_b], model)


class Shots:
    """Screenshots of each page, numbered in the order of the walk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def sign_in(page: Page, base: str, name: str) -> None:
    """With the keyboard alone: the name field has the focus, Tab to the password, Enter."""
    page.goto(f"{base}/sign-in")
    expect(page.locator("#user")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def no_clear_identity(page: Page) -> None:
    text = page.content()
    assert not any(name in text for name in CLEAR_IDENTITY)


def test_reviewer_provider_and_operator_walk_through_the_web_application(
    site: tuple[str, Hub, dict[str, int]], browser: Browser, tmp_path: Path
) -> None:
    base, hub, items = site
    shots = Shots(tmp_path / "artifacts")
    print(f"screenshots: {shots.folder}")
    refused: list[str] = []

    # --- the reviewer -----------------------------------------------------------------------------
    reviewer = browser.new_context(locale="de-DE")
    page = reviewer.new_page()
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    page.goto(f"{base}/sign-in")
    shots.take(page, "sign-in")
    sign_in(page, base, "anna")
    expect(page).to_have_url(f"{base}/review")
    expect(page.get_by_role("heading", name="Prüfliste")).to_be_visible()
    no_clear_identity(page)
    shots.take(page, "review-queue")
    page.get_by_role("link", name=f"Paar ansehen {items['across']}").click()
    expect(page.locator("svg.weight-chart")).to_be_visible()
    expect(page.get_by_role("img", name="Balkendiagramm: Gewicht je Merkmal")).to_be_visible()
    expect(page.get_by_role("table", name="Gewicht je Merkmal als Zahlen")).to_be_visible()
    shots.take(page, "pair-weights")
    page.get_by_role("link", name="Zurück zur Prüfliste").click()
    page.get_by_role("link", name=f"Paar ansehen {items['caritas']}").click()
    expect(page.get_by_role("heading", name=f"Paar {items['caritas']}")).to_be_visible()
    expect(page.get_by_role("cell", name="Transliterationsvariante")).to_be_visible()
    no_clear_identity(page)
    shots.take(page, "pair")
    page.get_by_role("button", name="Übernehmen").click()
    expect(page.locator("#assignment")).to_contain_text("mir")
    shots.take(page, "pair-taken")
    page.get_by_label("dieselbe Person").check()
    page.get_by_label("Begründung").select_option("case_file_checked")
    page.get_by_role("button", name="Entscheiden").click()
    expect(page.locator("#status")).to_have_text("dieselbe Person")
    shots.take(page, "pair-decided")
    (decision,) = list_entries(hub.home, AuditFilter(action="review.decide"))
    assert decision.actor == "web:anna" and decision.detail["reason"] == "case_file_checked"
    assert f"review:{items['caritas']}" in decision.objects
    page.get_by_role("button", name="Entscheidung zurücknehmen").click()
    expect(page).to_have_url(f"{base}/review?notice=undone")
    shots.take(page, "review-queue-after-undo")
    (undo,) = list_entries(hub.home, AuditFilter(action="review.undo"))
    assert undo.actor == "web:anna" and undo.detail["undone"] == "same"
    reviewer.close()

    # --- the provider ---------------------------------------------------------------------------------
    provider = browser.new_context(locale="de-DE")
    page = provider.new_page()
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    sign_in(page, base, "carla")
    expect(page).to_have_url(f"{base}/receipts/caritas")
    expect(page.get_by_role("link", name="c.csv")).to_be_visible()
    shots.take(page, "receipts")
    page.get_by_role("link", name="c.csv").click()
    expect(page.get_by_role("heading", name="Empfangsbestätigung: c.csv")).to_be_visible()
    shots.take(page, "receipt")
    other = page.goto(f"{base}/receipts/jobcenter")
    assert other is not None and other.status == 404
    expect(page.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible()
    shots.take(page, "receipts-of-another-body")
    provider.close()

    # --- the operator -------------------------------------------------------------------------------------
    operator = browser.new_context(locale="de-DE")
    page = operator.new_page()
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    sign_in(page, base, "otto")
    expect(page).to_have_url(f"{base}/sources")
    expect(page.get_by_role("heading", name="Quellen und Lieferungen")).to_be_visible()
    pseudonyms = [p for p in hub.pseudonyms().values() if p]
    content = page.content()
    assert pseudonyms and not any(p in content for p in pseudonyms)
    no_clear_identity(page)
    shots.take(page, "sources")
    for path in ("/review", f"/review/{items['caritas']}", "/receipts/caritas"):
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 404, path
    shots.take(page, "operator-not-found")
    operator.close()

    # --- the auditor ---------------------------------------------------------------------------------------
    auditor = browser.new_context(locale="de-DE")
    page = auditor.new_page()
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    sign_in(page, base, "vera")
    expect(page).to_have_url(f"{base}/audit")
    expect(page.locator("#chain-status")).to_have_text("Alle Ketten sind unversehrt.")
    page.get_by_label("Aktion").fill("review.decide")
    page.get_by_role("button", name="Filtern").click()
    expect(page.locator("#audit-entries tbody tr")).to_have_count(1)
    expect(page.locator("#audit-entries")).to_contain_text("web:anna")
    no_clear_identity(page)
    shots.take(page, "audit-log")
    auditor.close()

    print("console errors:", refused)
    expected = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert [m for m in refused if m != expected] == []  # nothing else: the Content-Security-Policy refused nothing
    assert len(refused) == 4  # the four pages asked for above that do not exist for their user
    assert len(list(shots.folder.glob("*.png"))) == shots.count == 13
