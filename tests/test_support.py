"""The test support holds the tests to their own rules: no test imports another test module or
conftest, and every home a test creates holds the fixed test key (tests/support)."""

from __future__ import annotations

import ast
from pathlib import Path

from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.hub_db.keystore import current_key_id, load_keys
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.home import default_source
from tests.support import ROOT, SETTLED_AGE, TEST_MASTER_KEY, TEST_RECORD_ID_KEY, Hub, deliver, init_home, seeded_keys

TESTS = ROOT / "tests"


def _imported_modules(path: Path) -> set[str]:
    """Every module an import statement of ``path`` names (imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_test_module_imports_another_test_module_or_conftest() -> None:
    """Shared helpers and data live in tests.support; fixtures come from conftest by name."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] == "tests" and any(part.startswith("test_") or part == "conftest" for part in parts[1:]):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert not offenders, offenders


def test_the_hub_fixture_holds_the_fixed_test_key(hub: Hub) -> None:
    key_dir = hub.home.key_dir(hub.config)
    assert current_key_id(key_dir) == "k1"
    assert hub.keys == load_keys(key_dir) == EncodingKeys.from_master(TEST_MASTER_KEY, "k1", TEST_RECORD_ID_KEY)
    assert (key_dir / "hub-k1.key").stat().st_mode & 0o777 == 0o600 and key_dir.stat().st_mode & 0o777 == 0o700
    assert (key_dir / "record-ids-k1.key").stat().st_mode & 0o777 == 0o600


def test_homes_made_by_the_cli_hold_the_fixed_test_key(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    assert load_keys(home / "keys") == EncodingKeys.from_master(TEST_MASTER_KEY, "k1", TEST_RECORD_ID_KEY)
    assert seeded_keys("k1") == EncodingKeys.from_master(TEST_MASTER_KEY, "k1", TEST_RECORD_ID_KEY) != seeded_keys("k2")


def test_a_delivery_is_settled_and_a_file_being_written_is_not(tmp_path: Path) -> None:
    """``deliver`` back-dates far beyond the settle time of every source's default configuration."""
    folder = DropFolder.under(tmp_path, "caritas")
    delivered = deliver(folder.inbox, "done.csv", "record_id\nC-1\n")
    (folder.inbox / "writing.csv").write_text("record_id\nC-2\n", encoding="utf-8")
    assert default_source("caritas").settle_seconds * 10 < SETTLED_AGE
    assert folder.pending(default_source("caritas").settle_seconds) == [delivered]
