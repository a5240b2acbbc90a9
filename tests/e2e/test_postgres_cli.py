"""The real CLI and a real Prefect flow against PostgreSQL (the production database)."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from kim_hub.linkage.evaluate import pairwise_score
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source
from tests.e2e.test_standard_sample import F1_FLOOR, STANDARD, _truth, run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_standard_sample_on_postgresql(tmp_path, database_url: str) -> None:
    home = HubHome(tmp_path / "home")
    home.path.mkdir()
    home.save_config(HubConfig(database_url=database_url, sources={n: default_source(n) for n in DEFAULT_SOURCES}))
    run_cli("init", home=home.path)
    for source_dir in (STANDARD / "inbox").iterdir():
        for file in source_dir.iterdir():
            shutil.copy2(file, home.inbox(source_dir.name) / file.name)
    assert run_cli("ingest", home=home.path).returncode == 0
    assert not (home.var / "hub.db").exists(), "nothing may fall back to SQLite"
    rows = csv.DictReader(io.StringIO(run_cli("links", home=home.path).stdout))
    score = pairwise_score(_truth(), {(r["source"], r["record_id"]): r["person_id"] for r in rows})
    assert score.f1 >= F1_FLOOR
    again = run_cli("ingest", home=home.path)
    assert "0 records linked" in again.stdout
