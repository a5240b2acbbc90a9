"""Crash consistency: SIGKILL `kim-hub ingest` at random moments, re-run, compare with a clean run.

Each file is one transaction with its ledger entry, linking is one transaction, and files move
on only after their commit; so whatever moment the kill hits (Prefect start-up, a file's claim,
its upsert, the receipt, linking), a re-run must leave exactly the state of an uninterrupted run:
no record, link, ledger entry or rejection lost or doubled.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from synth import generate
from tests.reliability.hub_processes import deliver as _deliver
from tests.reliability.hub_processes import dump as _dump
from tests.reliability.hub_processes import start_cli

pytestmark = pytest.mark.e2e

TRIALS = int(os.environ.get("KIM_HUB_CRASH_TRIALS", "4"))
PERSONS = 1200


def _receipts(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "outbox").rglob("*.receipt.json"))


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("crash")
    generate(root / "drops", PERSONS, seed=5, workers=1)
    home = root / "clean"
    assert start_cli(home, "init", capture=False).wait(timeout=120) == 0
    _deliver(root / "drops", home)
    started = time.perf_counter()
    run = start_cli(home, "ingest", capture=False)
    assert run.wait(timeout=600) in (0, 1), run.stderr.read() if run.stderr else ""
    return {"root": root, "home": home, "seconds": time.perf_counter() - started, "dump": _dump(home), "receipts": _receipts(home)}


@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_then_rerun_equals_a_clean_run(clean_run: dict, trial: int) -> None:
    rng = random.Random(trial)
    home = clean_run["root"] / f"trial{trial}"
    assert start_cli(home, "init", capture=False).wait(timeout=120) == 0
    shutil.rmtree(home / "keys")
    shutil.copytree(clean_run["home"] / "keys", home / "keys")  # same key: same keyed content hashes
    _deliver(clean_run["root"] / "drops", home)

    victim = start_cli(home, "ingest", capture=False)
    time.sleep(rng.uniform(0.3, 1.0) * clean_run["seconds"])
    if victim.poll() is None:
        os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)

    rerun = start_cli(home, "ingest", capture=False)
    assert rerun.wait(timeout=600) in (0, 1), rerun.stderr.read() if rerun.stderr else ""
    assert _dump(home) == clean_run["dump"]
    assert _receipts(home) == clean_run["receipts"]
    assert not list((home / "processing").rglob("*.csv")), "a claimed file was left behind"
    assert not list((home / "inbox").rglob("*.csv")), "a delivered file was not taken"
