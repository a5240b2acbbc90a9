"""The real `kim-hub` command line in child processes, as an operator runs it.

Nothing here imports Prefect: each child process sets Prefect up inside its home, as the
installed command does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kim_hub.flows.prefect_setup import API_URL_OVERRIDE
from kim_hub.pipeline.home import HubHome, default_config
from tests.support.keys import plant_test_key

CLI_TIMEOUT = 600
"""Seconds a CLI run may take before the test fails instead of hanging."""


def kim_hub_command() -> list[str]:
    """How tests run the real CLI: the installed console script of this interpreter's venv."""
    script = Path(sys.executable).parent / "kim-hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kim_hub.cli"]


def _environment(env: dict[str, str] | None, api: str | None) -> dict[str, str] | None:
    """The child's environment: this process's, plus ``env``, plus the Prefect server to use."""
    extra = {**(env or {}), **({API_URL_OVERRIDE: api} if api else {})}
    return {**os.environ, **extra} if extra else None


def run_cli(
    *args: str, home: Path, check: bool = True, api: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`kim-hub ARGS --home HOME`, waited for, output captured.

    ``check``: fail unless it exits 0 (done) or 1 (done, some deliveries rejected); ``api``: a
    running Prefect server's API URL (tests.support.prefect), so the process skips starting
    Prefect's temporary server; ``env``: extra environment variables for the child.
    """
    result = subprocess.run(
        [*kim_hub_command(), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env=_environment(env, api),
        check=False,  # exit 1 is a run with rejected deliveries: judged below
    )
    if check and result.returncode not in (0, 1):
        raise AssertionError(f"kim-hub {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def start_cli(
    home: Path, *args: str, capture: bool = True, api: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`kim-hub ARGS --home HOME` as a child process, not waited for.

    ``capture``: stdout through a pipe (else discarded; stderr is always piped); ``api``: a running
    Prefect server's API URL (see ``tests.support.prefect``), so the process skips starting
    Prefect's temporary server; ``env``: extra environment (e.g. a crash point).
    """
    return subprocess.Popen(
        [*kim_hub_command(), *args, "--home", str(home)],
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(env, api),
    )


def init_home(home: Path, database_url: str = "", api: str | None = None, env: dict[str, str] | None = None) -> Path:
    """`kim-hub init` of a new home that holds the fixed test key (see ``tests.support.keys``).

    ``database_url``: the home's database (default: its own SQLite file); ``api``, ``env``: as for
    ``run_cli``. Two homes made here hold the same key, so their encodings and dumps compare.
    """
    config = default_config(database_url)
    if database_url:  # else `kim-hub init` writes hub.toml itself, as for an operator
        home.mkdir(parents=True)
        HubHome(home).save_config(config)
    plant_test_key(HubHome(home).key_dir(config))
    result = run_cli("init", home=home, check=False, api=api, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return home
