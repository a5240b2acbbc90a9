"""Debian's Chromium as every browser test starts it: headless, and asking nothing of the network.

Playwright's own browser download is not reachable here, so the system binary is used (`.ci/run`
installs Debian's package). The flags keep Chromium from reaching out (background networking,
component updates, sync, QUIC): on a closed network those connections are refused or hang.
A missing browser is a failure with the command that installs it, never a skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """The installed Chromium's path."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no Chromium installed: apt-get install -y chromium")


def playwright_launch_args() -> dict[str, Any]:
    """Playwright's launch options for that Chromium."""
    return {"executable_path": chromium(), "args": list(HEADLESS_FLAGS)}


@contextmanager
def launched_browser() -> Iterator[Any]:
    """A Playwright Chromium for one test module, stopped with it (the ``browser`` fixture).

    Not pytest-playwright's session-wide browser: while Playwright's sync API is started, its
    event loop counts as running in the test process, so every later test of the process would
    run "inside" it (Prefect's dual sync/async APIs then hand back coroutines, asyncio.run refuses).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**playwright_launch_args())
        try:
            yield browser
        finally:
            browser.close()


def sign_in_with_form(page: Any, base: str, name: str, password: str) -> None:
    """A local account signed in through the sign-in page, by its labelled fields (German)."""
    page.goto(f"{base}/sign-in")
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
