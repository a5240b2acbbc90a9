"""Four eyes in a real browser (Debian's Chromium): a reviewer splits a person whose summaries
already went to two bodies; the pair page has shown the correction notices that would follow, the
decision waits; the same reviewer cannot confirm it; a second reviewer finds it in the queue and
confirms it, and the next push sends exactly those notices. The first reviewer's pages (what a
decision would send, the decision waiting) are checked by axe-core, in a context that lets its
script in (``bypass_csp``, as tests/e2e/test_web_accessibility.py does). Screenshots under
``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kim_hub.hub_db.models import ReviewItem, SourceRecord
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub, sqlite_url
from tests.support.accessibility import FAILING_IMPACTS, axe_findings, summary
from tests.support.browser import sign_in_with_form
from tests.support.data import CLEAR_IDENTITY, TODAY, exchange_csv, person_at
from tests.support.servers import serving_web

PASSWORD = "korrekt-Pferd-Batterie"
pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Hub, int]]:
    """Samira at caritas and the job centre, pushed once, and a review item on her two records."""
    hub = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()
    assert hub.push(TODAY).summaries_sent == 2
    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        item = ReviewItem(record_a=ids["C-1"], record_b=ids[hub.stored_id("jobcenter", "962D000001")], score=0.7, evidence={})
        session.add(item)
    for name in ("anna", "dora"):
        add_user(hub.home, name, "reviewer", PASSWORD)
    with serving_web(hub.home) as base:
        yield base, hub, item.id
    hub.close()


def sign_in(page: Page, base: str, name: str) -> None:
    sign_in_with_form(page, base, name, PASSWORD)


def test_a_split_of_a_person_already_sent_waits_for_a_second_reviewer_in_the_browser(
    site: tuple[str, Hub, int], browser: Browser, tmp_path: Path
) -> None:
    base, hub, item = site
    shots = tmp_path / "artifacts"
    shots.mkdir()
    print(f"screenshots: {shots}")
    samira = hub.pseudonyms()[("caritas", "C-1")]

    first = browser.new_context(locale="de-DE", bypass_csp=True).new_page()
    findings: list[str] = []
    sign_in(first, base, "anna")
    first.get_by_role("link", name=f"Paar ansehen {item}").click()
    effects = first.get_by_test_id("effects-different")
    expect(effects.get_by_role("cell", name="jobcenter")).to_be_visible()
    expect(effects.get_by_role("cell", name=samira).first).to_be_visible()
    assert effects.get_by_text("Korrekturhinweis").count() == 2
    assert not any(name in first.content() for name in CLEAR_IDENTITY)
    first.screenshot(path=str(shots / "01-pair-with-effects.png"), full_page=True)
    findings += summary("pair-with-effects", [v for v in axe_findings(first) if v["impact"] in FAILING_IMPACTS])
    first.get_by_label("verschiedene Personen").check()
    first.get_by_label("Begründung").select_option("fields_differ")
    first.get_by_role("button", name="Entscheiden").click()
    expect(first.get_by_test_id("notice")).to_contain_text("wartet auf die Bestätigung")
    expect(first.get_by_test_id("confirm")).to_have_count(0)  # not for the one who asked
    first.screenshot(path=str(shots / "02-pair-pending.png"), full_page=True)
    findings += summary("pair-pending", [v for v in axe_findings(first) if v["impact"] in FAILING_IMPACTS])
    assert findings == []
    assert hub.pseudonyms()[("caritas", "C-1")] == hub.pseudonyms()[("jobcenter", hub.stored_id("jobcenter", "962D000001"))]

    second = browser.new_context(locale="de-DE").new_page()
    sign_in(second, base, "dora")
    waiting = second.get_by_test_id("waiting")
    expect(waiting).to_contain_text("web:anna")
    second.screenshot(path=str(shots / "03-queue-waiting.png"), full_page=True)
    waiting.get_by_role("link", name=f"Paar ansehen {item}").click()
    second.get_by_test_id("confirm").click()
    expect(second.get_by_test_id("notice")).to_contain_text("bestätigt und angewendet")
    second.screenshot(path=str(shots / "04-pair-confirmed.png"), full_page=True)

    pushed = hub.push(TODAY)
    assert (pushed.corrections, pushed.summaries_sent) == (2, 0)  # the two notices the page showed
