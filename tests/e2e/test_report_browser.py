"""The report page in a real browser (headless Chromium): charts and tables render, no identity.

The screenshot is kept next to the test's files for a human look at readability.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kim_hub.pipeline.reports import REPORT_HTML, write_reports
from tests.support import Hub, report_home
from tests.support.browser import HEADLESS_FLAGS, chromium
from tests.support.data import CLEAR_IDENTITY


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["de", "en"])
def test_report_renders_in_a_browser_without_clear_identity(hub: Hub, tmp_path: Path, lang: str) -> None:
    home = report_home(hub).home
    write_reports(home, lang=lang)
    page = home.reports / REPORT_HTML
    screenshot = tmp_path / f"report-{lang}.png"
    result = subprocess.run(
        [
            chromium(),
            *HEADLESS_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,3000",
            f"--screenshot={screenshot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
    assert dom.count("<svg") >= 5, "the charts are in the rendered DOM"
    assert dom.count("<table") >= 6, "the tables are in the rendered DOM"
    assert ("Abgleichsbericht" if lang == "de" else "matching report") in dom
    html = page.read_text(encoding="utf-8")
    for value in CLEAR_IDENTITY:
        assert value not in html and value not in dom
