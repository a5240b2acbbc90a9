"""`kim-hub ingest` with nothing new: after a complete sync that changed nothing, the command
answers without starting Prefect and records the completed run on the Prefect server; where it
cannot (a Prefect client setting it does not apply) the flow runs as one task (look-for-work). A
delivery or a change brings the steps back, for the source with work only. The real CLI against a
running Prefect server (the ``prefect_api`` fixture)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from kim_hub.pipeline.sync_work import QUIET_FILE
from tests.support import init_home, run_cli
from tests.support.data import REPORT_HEADER
from tests.support.files import csv_text, deliver

pytestmark = pytest.mark.e2e
ROW = "C-1,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"
NOTHING_NEW = "nothing new: no delivery, and nothing to link, push or report since the last complete sync"


def _ingest(home: Path, api: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = run_cli("ingest", "--verbose", *args, home=home, api=api, env=env)
    return done.stdout + done.stderr


def _recorded_run(api: str, name: str, home: Path) -> dict[str, Any]:
    """The flow run of that name for this home, as the Prefect server holds it (run names say the
    second they were made, and the server is the test session's)."""
    found = requests.post(f"{api}/flow_runs/filter", json={"flow_runs": {"name": {"any_": [name]}}}, timeout=30).json()
    ours = [run for run in found if run["parameters"].get("home_path") == str(home)]
    assert len(ours) == 1, found
    return dict(ours[0])


def test_a_sync_with_nothing_new_is_answered_and_recorded_until_something_changes(tmp_path: Path, prefect_api: str) -> None:
    home = init_home(tmp_path / "home", api=prefect_api)
    deliver(home / "inbox" / "caritas", "first.csv", csv_text([ROW], REPORT_HEADER))
    first = _ingest(home, prefect_api)
    assert "report written" in first and NOTHING_NEW not in first
    second = _ingest(home, prefect_api)  # every step runs once more and finds nothing: the state is noted quiet
    assert NOTHING_NEW not in second and "report unchanged since" in second and "ingest-caritas" in second
    assert (home / "var" / QUIET_FILE).exists()

    quiet = _ingest(home, prefect_api)
    assert NOTHING_NEW in quiet and "report unchanged since" in quiet
    recorded = re.search(r"flow run '(sync-\d{8}T\d{6}Z)' of kim-hub-sync recorded as Completed", quiet)
    assert recorded, quiet[-3000:]
    assert "look-for-work" not in quiet and "Finished in state" not in quiet  # no flow ran: Prefect was never started
    run = _recorded_run(prefect_api, recorded.group(1), home)  # operators still see a completed run in Prefect
    assert run["state_type"] == "COMPLETED" and run["parameters"] == {"home_path": str(home), "sources": None, "full": False}
    assert NOTHING_NEW in run["state"]["message"]

    # a Prefect client setting the command does not apply: the flow runs instead, and ends after its look
    flowed = _ingest(home, prefect_api, env={"PREFECT_CLIENT_CUSTOM_HEADERS": '{"X-Proxy-Tenant": "kim"}'})
    assert NOTHING_NEW in flowed and "look-for-work" in flowed and "recorded as Completed" not in flowed
    for step in ("ingest-", "link-master-index", "push-summaries", "write-report"):
        assert step not in flowed, f"{step} ran in a sync with nothing to do:\n{flowed[-3000:]}"
    assert re.search(r"Finished in state Completed", flowed)

    deliver(home / "inbox" / "awo", "more.csv", csv_text([ROW.replace("C-1", "A-1")], REPORT_HEADER))
    busy = _ingest(home, prefect_api)
    assert "ingest-awo" in busy and "ingest-caritas" not in busy and NOTHING_NEW not in busy
    assert "link-master-index" in busy and "report written" in busy

    full = _ingest(home, prefect_api, "--full")
    assert "ingest-caritas" in full and NOTHING_NEW not in full
