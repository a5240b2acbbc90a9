"""`kim-hub ingest` with nothing new: after a complete sync that changed nothing, the flow run is
one task (look-for-work) and says so; a delivery or a change brings the steps back, for the
source with work only. The real CLI against a running Prefect server (the ``prefect_api`` fixture)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kim_hub.pipeline.sync_work import QUIET_FILE
from tests.support import init_home, run_cli
from tests.support.data import REPORT_HEADER
from tests.support.files import csv_text, deliver

pytestmark = pytest.mark.e2e
ROW = "C-1,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"
NOTHING_NEW = "nothing new: no delivery, and nothing to link, push or report since the last complete sync"


def _ingest(home: Path, api: str, *args: str) -> str:
    done = run_cli("ingest", "--verbose", *args, home=home, api=api)
    return done.stdout + done.stderr


def test_a_sync_with_nothing_new_is_one_task_until_something_changes(tmp_path: Path, prefect_api: str) -> None:
    home = init_home(tmp_path / "home", api=prefect_api)
    deliver(home / "inbox" / "caritas", "first.csv", csv_text([ROW], REPORT_HEADER))
    first = _ingest(home, prefect_api)
    assert "report written" in first and NOTHING_NEW not in first
    second = _ingest(home, prefect_api)  # every step runs once more and finds nothing: the state is noted quiet
    assert NOTHING_NEW not in second and "report unchanged since" in second and "ingest-caritas" in second
    assert (home / "var" / QUIET_FILE).exists()

    quiet = _ingest(home, prefect_api)
    assert NOTHING_NEW in quiet and "report unchanged since" in quiet
    assert "look-for-work" in quiet
    for step in ("ingest-", "link-master-index", "push-summaries", "write-report"):
        assert step not in quiet, f"{step} ran in a sync with nothing to do:\n{quiet[-3000:]}"
    assert re.search(r"Finished in state Completed", quiet)  # operators still see a completed run in Prefect

    deliver(home / "inbox" / "awo", "more.csv", csv_text([ROW.replace("C-1", "A-1")], REPORT_HEADER))
    busy = _ingest(home, prefect_api)
    assert "ingest-awo" in busy and "ingest-caritas" not in busy and NOTHING_NEW not in busy
    assert "link-master-index" in busy and "report written" in busy

    full = _ingest(home, prefect_api, "--full")
    assert "ingest-caritas" in full and NOTHING_NEW not in full
