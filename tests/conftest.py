"""Test isolation: no test sees the developer's Prefect profile, hub home or environment."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"

for _variable in ("PREFECT_API_URL", "PREFECT_PROFILES_PATH", "KIM_HUB_HOME", "KIM_HUB_PREFECT_API_URL"):
    os.environ.pop(_variable, None)
# Prefect imported in this process (a few tests do) must not touch ~/.prefect or phone home.
_PREFECT_HOME = tempfile.mkdtemp(prefix="kimhub-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_PROFILES_PATH"] = os.path.join(_PREFECT_HOME, "profiles.toml")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv("KIM_HUB_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture(scope="session")
def keys():
    """One fixed-for-the-session key set (random: tests must not depend on key values)."""
    from kim_hub.linkage.keyed import EncodingKeys

    return EncodingKeys.from_master(os.urandom(32), "test")


def kim_hub_command() -> list[str]:
    """How tests run the real CLI: the installed console script of this interpreter's venv."""
    script = Path(sys.executable).parent / "kim-hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kim_hub.cli"]


POSTGRES_ENV = "KIM_HUB_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty hub database on each backend (SQLite file; PostgreSQL database).

    PostgreSQL comes from $KIM_HUB_TEST_POSTGRES_URL (.ci/run starts a server and sets it). In CI
    a missing server is an error, never a silent skip.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    with postgres_database() as url:
        yield url


def postgres_admin_url() -> str:
    """$KIM_HUB_TEST_POSTGRES_URL; without it the test fails in CI and is skipped elsewhere."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test against PostgreSQL")
        pytest.skip(f"{POSTGRES_ENV} not set (run .ci/postgres.sh to start a server)")
    return admin_url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = postgres_admin_url()
    name = f"kimhub_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def hub(tmp_path: Path, database_url: str):
    """A home on each database backend (see conftest.database_url)."""
    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.keystore import load_keys
    from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source
    from kim_hub.pipeline.setup import initialise

    home = HubHome(tmp_path / "home")
    home.path.mkdir(parents=True)
    home.save_config(HubConfig(database_url=database_url, sources={n: default_source(n) for n in DEFAULT_SOURCES}))
    config = initialise(home)
    engine = make_engine(home.database_url(config))
    sessions = session_factory(engine)
    keys = load_keys(home.key_dir(config))
    yield home, config, sessions, keys
    engine.dispose()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory):
    """One Prefect API server for every CLI process of the session that asks for it.

    Without it every `kim-hub` process starts Prefect's temporary server (~8 s each); with it, a
    crash trial costs a few seconds and 50 of them fit into a CI run. The hub is pointed at it the
    way an operator would (KIM_HUB_PREFECT_API_URL), so the code path stays the production one.
    """
    from tests.reliability.hub_processes import prefect_server

    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api
