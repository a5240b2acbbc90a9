"""Test isolation and the shared fixtures: no test sees the developer's Prefect profile, hub home or
environment. Helpers and test data are in tests/support (tests never import this file)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support import BACKENDS, Hub, migrated_sqlite_database, postgres_database, seeded_keys, sqlite_url
from tests.support.browser import launched_browser, playwright_launch_args
from tests.support.prefect import prefect_server

for _variable in ("PREFECT_API_URL", "PREFECT_PROFILES_PATH", "KIM_HUB_HOME", "KIM_HUB_PREFECT_API_URL"):
    os.environ.pop(_variable, None)
# Prefect imported in this process (a few tests do) must not touch ~/.prefect or phone home;
# tests.support imports no Prefect, so this still comes first.
_PREFECT_HOME = tempfile.mkdtemp(prefix="kimhub-test-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)  # each test process made its own: never left in /tmp
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_PROFILES_PATH"] = os.path.join(_PREFECT_HOME, "profiles.toml")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
# `kim-hub init` leaves Prefect's database to the first sync, as before (flows.prefect_setup):
# most of the suite's inits never sync, and each would start a server. tests/test_prefect_database.py
# runs init with it.
os.environ["KIM_HUB_PREFECT_DATABASE_AT_INIT"] = "0"


# Test folders whose files run longest (whole CLI runs, crash trials), started first: with the
# tests spread over worker processes a file at a time (`make test`), a long file picked up last
# would leave the other workers idle at the end.
LONG_RUNNING_FIRST = ("tests/reliability/", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long-running folders first, each file's tests kept together and in their order."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((i for i, folder in enumerate(LONG_RUNNING_FIRST) if path.startswith(folder)), len(LONG_RUNNING_FIRST))

    items.sort(key=rank)  # stable: the order within a rank is pytest's


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIM_HUB_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture(scope="session")
def keys():
    """Encoding keys from the fixed test master key (tests.support.keys): outcomes are the same on every run."""
    return seeded_keys("test")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty hub database on each backend (SQLite file; PostgreSQL database).

    PostgreSQL comes from $KIM_HUB_TEST_POSTGRES_URL (.ci/run starts a server and sets it). In CI
    a missing server is an error, never a silent skip.
    """
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "hub.db")
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A home with the fixed test key on each database backend (tests.support.hub), its database
    already at the newest migration (a copy of one migrated once per process: see
    tests.support.databases; ``database_url`` gives an empty one)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = migrated_sqlite_database(tmp_path / "hub.db")
        else:
            url = stack.enter_context(postgres_database(migrated=True))
        opened = Hub.create(tmp_path / "home", url)
        yield opened
        opened.close()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Prefect API server for every CLI process of the session that asks for it (with
    pytest-xdist: of each worker process).

    Without it every `kim-hub` process starts Prefect's temporary server (~8 s each); with it, a
    crash trial costs a few seconds and 50 of them fit into a CI run. The hub is pointed at it the
    way an operator would (KIM_HUB_PREFECT_API_URL), so the code path stays the production one.
    """
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright's launch options: Debian's Chromium, headless (tests.support.browser)."""
    return playwright_launch_args()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module, Playwright stopped after it (tests.support.browser explains
    why not pytest-playwright's session-wide one)."""
    with launched_browser() as launched:
        yield launched
