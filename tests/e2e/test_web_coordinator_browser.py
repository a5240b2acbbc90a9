"""The coordinator in a real browser (Debian's Chromium through Playwright): signs in with the
keyboard, lands on the chain gaps of its district, downloads them as CSV (the rows of the page,
the formula-like district label kept text), finds the export in the audit log, opens the live
report (whose own style policy refuses nothing) and finds another district not there.

The real application runs under uvicorn on a free port (tests.support.servers) on a small home
(tests.support.coordinator_home). Every page is saved as a screenshot under the test's tmp
folder, ``artifacts/`` (printed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from kim_hub.pipeline.audit import AuditFilter, list_entries
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub, coordinator_home, sqlite_url
from tests.support.data import CLEAR_IDENTITY
from tests.support.servers import serving_web

PASSWORD = "korrekt-Pferd-Batterie"
FORMULA_LABEL = '=HYPERLINK("http://example.invalid")'
pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Hub, dict[str, str]]]:
    hub = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    persons = coordinator_home(hub)
    add_user(hub.home, "kora", "coordinator", PASSWORD, districts=["nord"])
    with serving_web(hub.home) as base:
        yield base, hub, persons
    hub.close()


def shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{len(list(folder.glob('*.png'))) + 1:02d}-{name}.png"), full_page=True)


def test_a_coordinator_signs_in_opens_the_gaps_of_its_district_and_downloads_them(
    site: tuple[str, Hub, dict[str, str]], browser: Browser, tmp_path: Path
) -> None:
    base, hub, persons = site
    artifacts = tmp_path / "artifacts"
    print(f"screenshots: {artifacts}")
    refused: list[str] = []
    context = browser.new_context(locale="de-DE", accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)

    page.goto(f"{base}/sign-in")
    expect(page.locator("#user")).to_be_focused()
    page.keyboard.type("kora")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/gaps")
    expect(page.get_by_role("heading", name="Lücken in der Kette", exact=True)).to_be_visible()
    page.get_by_role("link", name=FORMULA_LABEL).click()  # the district's own page
    expect(page).to_have_url(f"{base}/gaps/nord")
    table = page.get_by_test_id("worklist")
    expect(table.get_by_role("cell", name=persons["nord"])).to_be_visible()
    shown = [[cell.inner_text() for cell in row.locator("td").all()] for row in table.locator("tbody tr").all()]
    assert [row[1] for row in shown] == [persons["nord"]]
    content = page.content()
    assert not any(name in content for name in CLEAR_IDENTITY) and persons["sued"] not in content
    shot(page, artifacts, "gaps-nord")

    with page.expect_download() as started:
        page.get_by_test_id("csv").click()
    download = started.value
    assert download.suggested_filename.startswith("gaps-nord-")
    header, *rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert header == ["Bezirk", "Pseudonym", "Auslöser", "seit", "bekannt bei"]
    assert rows == [["'" + FORMULA_LABEL, *shown[0][1:]]] and shown[0][0] == FORMULA_LABEL
    (export,) = list_entries(hub.home, AuditFilter(action="gaps.export"))
    assert export.actor == "web:kora" and export.detail["worklist_district"] == "nord" and export.detail["findings"] == 1

    page.get_by_role("link", name="Bericht").click()
    expect(page).to_have_url(f"{base}/report")
    expect(page.locator("header h1")).to_be_visible()
    assert page.locator("svg.chart").count() > 0
    assert not any(name in page.content() for name in CLEAR_IDENTITY)
    shot(page, artifacts, "report")

    other = page.goto(f"{base}/gaps/sued")
    assert other is not None and other.status == 404
    expect(page.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible()
    shot(page, artifacts, "gaps-of-another-district")
    context.close()

    print("console errors:", refused)
    expected = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert refused == [expected]  # the district not granted; the report's style policy refused nothing
