"""Test isolation: no test sees the developer's Prefect profile, hub home or environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"

for _variable in ("PREFECT_API_URL", "PREFECT_PROFILES_PATH", "KIM_HUB_HOME", "KIM_HUB_PREFECT_API_URL"):
    os.environ.pop(_variable, None)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv("KIM_HUB_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture(scope="session")
def keys():
    """One fixed-for-the-session key set (random: tests must not depend on key values)."""
    from linkage.keyed import EncodingKeys

    return EncodingKeys.from_master(os.urandom(32), "test")


def kim_hub_command() -> list[str]:
    """How tests run the real CLI: the installed console script of this interpreter's venv."""
    script = Path(sys.executable).parent / "kim-hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]
