"""One source that fails stops nothing else: the other sources land, link, push and report.

A real `kim-hub ingest` (a Prefect flow) over the standard sample, beside a source whose
connector is not installed (as after an upgrade that lost a plug-in). The run completes, says
which source failed and why (the kind of error), and exits with 4, not with 1 ("rows rejected").
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest

from tests.support import copy_deliveries, init_home, run_cli, sample

pytestmark = pytest.mark.e2e


def _cli(*args: str, home: Path, api: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, check=False, api=api)


def test_a_failing_source_leaves_the_others_landed_linked_pushed_and_reported(tmp_path: Path, prefect_api: str) -> None:
    inbox = sample("standard") / "inbox"
    home = init_home(tmp_path / "home")  # the fixed test key
    with (home / "hub.toml").open("a", encoding="utf-8") as config:
        config.write('\n[sources.sozialamt]\nconnectors = ["not-installed-any-more"]\n')
    (home / "inbox" / "sozialamt").mkdir()
    copy_deliveries(sorted(p for source in ("caritas", "jobcenter", "abh") for p in (inbox / source).iterdir()), home)

    first = _cli("ingest", home=home, api=prefect_api)  # the session's Prefect server: a temporary one is not the point
    assert first.returncode == 4, first.stderr[-3000:]
    assert "source sozialamt failed (ConfigError)" in first.stderr
    assert "Traceback" not in first.stderr
    links = list(csv.DictReader(io.StringIO(_cli("links", home=home).stdout)))
    assert {row["source"] for row in links} == {"caritas", "jobcenter", "abh"}
    assert all(row["person_id"] for row in links), "every landed record is linked"
    assert list((home / "outbox" / "caritas" / "summaries").glob("*.json")), "summaries were pushed"
    assert (home / "reports" / "report.html").exists()

    again = _cli("ingest", home=home, api=prefect_api)
    assert again.returncode == 4 and "0 records linked" in again.stdout
