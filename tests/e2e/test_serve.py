"""`kim-hub serve` against a real Prefect server: deployments registered, a run goes through.

What an operator sees in the UI is what the server's API holds, so the test asks the API the
same questions `prefect deployment ls` and `prefect flow-run ls` ask (docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from kim_hub.flows.prefect_setup import API_URL_OVERRIDE
from tests.support import deliver, init_home, kim_hub_command

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 120


def _until(what: str, probe):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_registers_every_deployment_and_runs_a_sync(tmp_path: Path, prefect_api: str) -> None:
    home = tmp_path / "home"
    init_home(home)
    deliver(home / "inbox" / "caritas", "c.csv", "record_id,family_name,given_names,birth_date\nCV-1,Haddad,Samira,1988-03-14\n")
    environment = {**os.environ, API_URL_OVERRIDE: prefect_api}
    serving = subprocess.Popen(
        [*kim_hub_command(), "serve", "--home", str(home)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def deployments() -> dict[str, dict]:
            answer = requests.post(f"{prefect_api}/deployments/filter", json={}, timeout=10).json()
            return {d["name"]: d for d in answer} if len(answer) >= 10 else {}

        registered = _until("the deployments", deployments)
        sources = ("abh", "jobcenter", "caritas", "awo", "diakonie", "stadt")
        assert set(registered) == {f"sync-{s}" for s in sources} | {"push", "report", "retention", "reestimate"}
        assert all(d["schedules"] for d in registered.values()), "every deployment runs on a schedule"

        deployment = registered["sync-caritas"]

        def created() -> dict | None:
            # the server's SQLite can be busy for a moment while serve creates the scheduled runs
            answer = requests.post(f"{prefect_api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10)
            return answer.json() if answer.ok and "id" in answer.json() else None

        run = _until("the flow run to be created", created)

        def finished() -> dict | None:
            state = requests.get(f"{prefect_api}/flow_runs/{run['id']}", timeout=10).json()["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        assert _until("the flow run", finished)["type"] == "COMPLETED"
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=60)
    assert (home / "archive" / "caritas").exists() and any((home / "archive" / "caritas").iterdir()), (
        "the served run imported the delivery"
    )
