"""Signing in to the web application through FastAPI's TestClient, as the page tests do: the local
accounts' password, the form token a page carries, the page's main content."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kim_hub.web.app import create_app
from tests.support.hub import Hub

PASSWORD = "korrekt-Pferd-Batterie"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def signed_in(hub: Hub, name: str, base_url: str = "http://testserver") -> TestClient:
    """A client signed in as the local account ``name`` (made with ``PASSWORD``)."""
    client = TestClient(create_app(hub.home), base_url=base_url, follow_redirects=False)
    token = token_of(client, "/sign-in")
    answer = client.post("/sign-in", data={"user": name, "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303, answer.text
    return client


def token_of(client: TestClient, path: str) -> str:
    """The form token of the page at ``path``."""
    found = TOKEN.search(client.get(path).text)
    assert found is not None, path
    return found.group(1)


def main_of(page: str) -> str:
    """The page's main content (the header differs by user)."""
    found = re.search(r"<main.*</main>", page, re.S)
    assert found is not None
    return found.group(0)
