"""The real CLI and a real Prefect flow against PostgreSQL (the production database)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kim_hub.linkage.evaluate import pairwise_score
from kim_hub.pipeline.home import HubHome
from tests.support import copy_sample, init_home, run_cli, sample
from tests.support.data import STANDARD_F1_FLOOR, stored_truth

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_standard_sample_on_postgresql(tmp_path: Path, database_url: str, prefect_api: str) -> None:
    """As production runs it: PostgreSQL and one Prefect server for every run."""
    home = HubHome(init_home(tmp_path / "home", database_url))  # the fixed test key
    copy_sample(home.path, "standard")
    assert run_cli("ingest", home=home.path, api=prefect_api).returncode == 0
    assert not (home.var / "hub.db").exists(), "nothing may fall back to SQLite"
    rows = csv.DictReader(io.StringIO(run_cli("links", home=home.path).stdout))
    score = pairwise_score(
        stored_truth(sample("standard") / "truth.csv", home.path), {(r["source"], r["record_id"]): r["person_id"] for r in rows}
    )
    assert score.f1 >= STANDARD_F1_FLOOR
    again = run_cli("ingest", home=home.path, api=prefect_api)
    assert "0 records linked" in again.stdout
