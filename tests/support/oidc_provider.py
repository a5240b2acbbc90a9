"""A real OpenID provider for the sign-in tests: panva's certified ``oidc-provider`` (Node.js,
tests/support/oidc/provider.mjs) on a free port, with one static client and the accounts
``ACCOUNTS`` names (its development login form takes any password).

``npm ci --prefix tests/support/oidc`` installs it (.ci/run does); without node_modules the tests
fail with that command in the message, they never skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin

import httpx

from tests.support.paths import ROOT
from tests.support.servers import free_port

PROVIDER_DIR = ROOT / "tests" / "support" / "oidc"
CLIENT_ID = "kim-hub"
CLIENT_SECRET = "test-client-secret-not-a-real-one"
ROLES = {"kim-reviewer": "reviewer", "kim-operator": "operator"}
ACCOUNTS = ("test-reviewer", "test-operator", "test-norole", "test-tworoles")  # as in provider.mjs
_FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


@contextmanager
def oidc_provider(redirect_uris: Sequence[str], post_logout_redirect_uris: Sequence[str] = ()) -> Iterator[OidcProvider]:
    """The provider, listening until the block ends. Its issuer is http://localhost:<port>, so a
    test application on 127.0.0.1 is another site to the browser, as a real provider is. After its
    logout (end_session_endpoint) it sends the browser back only to ``post_logout_redirect_uris``."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise AssertionError("the test OpenID provider is not installed: run `npm ci --prefix tests/support/oidc`")
    port = free_port()
    process = subprocess.Popen(
        [node, "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET, ",".join(redirect_uris), ",".join(post_logout_redirect_uris)],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until it listens or dies
        if not line.startswith("ready "):
            raise AssertionError(f"the test OpenID provider did not start (exit {process.poll()})")
        yield OidcProvider(line.split()[1])
    finally:
        process.terminate()
        process.wait(timeout=10)


def log_in_at_provider(authorization_url: str, account: str, redirect_prefix: str, browser: httpx.Client | None = None) -> str:
    """A user at the provider: follows its redirects, fills its login form as ``account`` and
    returns the address it finally sends the browser back to (under ``redirect_prefix``). With
    ``browser`` (its cookies: the provider's session) the same user may come back; else a new one."""
    with httpx.Client(timeout=10) if browser is None else nullcontext(browser) as browser:
        answer = browser.get(authorization_url)
        for _ in range(10):
            location = answer.headers.get("location")
            if location is not None:
                target = urljoin(str(answer.url), location)
                if target.startswith(redirect_prefix):
                    return target
                answer = browser.get(target)
                continue
            form = _FORM.search(answer.text)
            assert answer.status_code == 200 and form, f"the provider answered {answer.status_code} without a form"
            fields = (
                {"prompt": "login", "login": account, "password": "any"}
                if 'name="login"' in answer.text
                else {"prompt": "consent"}
            )
            answer = browser.post(urljoin(str(answer.url), unescape(form.group(1))), data=fields)
    raise AssertionError("the provider never sent the browser back")


def log_out_at_provider(logout_url: str, redirect_prefix: str, browser: httpx.Client) -> str:
    """The provider's logout page (RP-initiated logout) in ``browser``: confirms "Yes, sign me out"
    and returns the address the provider sends the browser back to (under ``redirect_prefix``)."""
    page = browser.get(logout_url)
    form = _FORM.search(page.text)
    assert page.status_code == 200 and form and "op.logoutForm" in page.text, f"no logout form ({page.status_code})"
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)} | {"logout": "yes"}
    answer = browser.post(urljoin(str(page.url), unescape(form.group(1))), data=fields)
    location = answer.headers.get("location")
    assert answer.status_code in (302, 303) and location, f"the provider answered {answer.status_code}"
    target = urljoin(str(answer.url), location)
    assert target.startswith(redirect_prefix), "the provider sent the browser elsewhere"
    return target
