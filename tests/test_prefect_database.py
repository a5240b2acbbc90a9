"""`kim-hub init` makes Prefect's run-history database, so the first sync's temporary server does
not migrate an empty one (flows.prefect_setup.create_prefect_database; benchmarks/README.md).

The suite's conftest switches it off for every other test (KIM_HUB_PREFECT_DATABASE_AT_INIT=0);
these tests switch it back on.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kim_hub.cli.main import main
from kim_hub.flows.prefect_setup import AT_INIT_SWITCH, PREFECT_DATABASE_FILE, create_prefect_database
from kim_hub.pipeline.home import HubHome
from tests.support import init_home, run_cli, sample
from tests.support.files import copy_deliveries

PREFECT_VARIABLES = ("PREFECT_HOME", "PREFECT_PROFILES_PATH", "PREFECT_LOGGING_CONFIG_PATH", "PREFECT_API_URL")


@pytest.fixture
def at_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AT_INIT_SWITCH, raising=False)


@pytest.mark.usefixtures("at_init")
def test_init_makes_a_private_prefect_database_and_leaves_its_own_environment(tmp_path: Path) -> None:
    before = {name: os.environ.get(name) for name in PREFECT_VARIABLES}
    assert main(["init", "--home", str(tmp_path / "home")]) == 0
    database = HubHome(tmp_path / "home").prefect_home / PREFECT_DATABASE_FILE
    assert database.is_file()
    for path in database.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
    # run in-process (as here), init must not point this process's Prefect at the home
    assert {name: os.environ.get(name) for name in PREFECT_VARIABLES} == before


@pytest.mark.usefixtures("at_init")
def test_a_sync_after_init_uses_the_database_made_there(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    database = HubHome(home).prefect_home / PREFECT_DATABASE_FILE
    made = database.stat().st_ino
    copy_deliveries(sorted((sample("standard") / "inbox" / "caritas").glob("*")), home)
    assert run_cli("ingest", home=home).returncode == 0
    assert database.stat().st_ino == made  # the same file, not made again


@pytest.mark.usefixtures("at_init")
@pytest.mark.parametrize(
    "variable", ["KIM_HUB_PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"]
)
def test_no_database_is_made_where_prefect_is_given_another_server_or_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:9/api" if "API_URL" in variable else "sqlite+aiosqlite:///elsewhere.db")
    home = HubHome(tmp_path / "home")
    assert create_prefect_database(home) is False
    assert not (home.prefect_home / PREFECT_DATABASE_FILE).exists()


@pytest.mark.usefixtures("at_init")
def test_an_existing_database_is_left_to_the_server(tmp_path: Path) -> None:
    home = HubHome(tmp_path / "home")
    home.prefect_home.mkdir(parents=True)
    (home.prefect_home / PREFECT_DATABASE_FILE).write_bytes(b"")
    assert create_prefect_database(home) is False
    assert (home.prefect_home / PREFECT_DATABASE_FILE).read_bytes() == b""


def test_the_switch_leaves_it_to_the_first_sync(tmp_path: Path) -> None:
    assert os.environ.get(AT_INIT_SWITCH) == "0"  # the suite's conftest
    assert main(["init", "--home", str(tmp_path / "home")]) == 0
    assert not (HubHome(tmp_path / "home").prefect_home / PREFECT_DATABASE_FILE).exists()
