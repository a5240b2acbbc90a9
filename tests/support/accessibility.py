"""The accessibility check of the browser tests: axe-core (Deque's rules engine, pinned by
tests/support/axe/package-lock.json) injected into a page by Playwright and run there.

``make test`` installs it (``npm ci --prefix tests/support/axe``); without node_modules the check
fails with that command in the message, it never skips. The pages' Content-Security-Policy allows
no script but the application's own, so the browser context of this check is opened with
Playwright's ``bypass_csp=True`` (for this check only: the other browser tests keep the policy).
"""

from __future__ import annotations

from typing import Any

from tests.support.paths import ROOT

AXE_SCRIPT = ROOT / "tests" / "support" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
"""What fails the test; "moderate" and "minor" findings are printed only."""


def axe_findings(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA rules and best practices)."""
    if not AXE_SCRIPT.is_file():
        raise AssertionError("axe-core is not installed: run `npm ci --prefix tests/support/axe` (make test does)")
    page.add_script_tag(path=str(AXE_SCRIPT))
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def summary(name: str, violations: list[dict[str, Any]]) -> list[str]:
    """One line per rule broken: page, impact, rule, how many elements, the first element's selector."""
    return [
        f"{name}: {v['impact']} {v['id']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['target']}): {v['help']}" for v in violations
    ]
