"""One real Prefect API server for many CLI runs (each would otherwise start its own, ~8 s).

Used by the session fixture ``prefect_api`` (tests/conftest.py). Nothing here imports Prefect:
the server is the ``prefect`` command of this interpreter's venv, in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

PREFECT_STARTUP_SECONDS = 180
"""How long the server may take to answer /api/health before the session fails."""


@contextmanager
def prefect_server(workdir: Path) -> Iterator[str]:
    """Start a Prefect server; yield its API URL (for KIM_HUB_PREFECT_API_URL); stop it afterwards.

    Its state lives in ``workdir`` (own PREFECT_HOME); the URL is yielded once /api/health answers.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        **os.environ,
        "PREFECT_HOME": str(workdir),
        "PREFECT_PROFILES_PATH": str(workdir / "profiles.toml"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
    environment.pop("PREFECT_API_URL", None)
    log = (workdir / "server.log").open("wb")
    prefect = Path(sys.executable).parent / "prefect"
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + PREFECT_STARTUP_SECONDS
        while not _healthy(api):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Prefect server did not start: {(workdir / 'server.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.2)
        yield api
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
