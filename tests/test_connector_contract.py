"""The standard connector suite: every registered connector, one contract.

Generated from the entry-point registry (as meltano's SDK generates tap tests from the tap
class), so a municipality's own connector package is held to the same rules the moment it is
installed: it declares its formats, bad input becomes rejections not exceptions, re-reading is
idempotent, state round-trips, and no clear value ever appears in an error.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import responses

from kim_hub.connectors.base import FileBatch, FileConnector, HealthResult, PullConnector
from kim_hub.connectors.registry import available_connectors, load_connector
from kim_hub.flows.ingest import MAPPINGS

FIXTURES = Path(__file__).parent / "fixtures"
SENTINEL = "Zyxwvutsrq"  # a "clear name" planted in bad rows: must never reach an error text
NAMES = sorted(available_connectors())
FILE_CONNECTORS = [n for n in NAMES if isinstance(load_connector(n), FileConnector)]
PULL_CONNECTORS = [n for n in NAMES if isinstance(load_connector(n), PullConnector)]


def good_example(connector, folder: Path) -> Path:
    """A valid delivery in the connector's own format (synthetic)."""
    if connector.row_format == "provider-csv":
        path = folder / "example.csv"
        path.write_text(
            "record_id,family_name,given_names,birth_date\nR-1,Haddad,Samira,1988-03-14\nR-2,Testova,Marta,1975-11-02\n",
            encoding="utf-8",
        )
        return path
    fixture = {"jobcenter-export": FIXTURES / "jobcenter" / "JC_KIM_20261124.csv", "abh-xml": FIXTURES / "abh" / "good.xml"}
    return fixture[connector.row_format]


def bad_example(connector, folder: Path) -> Path:
    """The good example with one row broken around the sentinel value."""
    good = good_example(connector, folder).read_bytes()
    broken = good.replace(b"Haddad", SENTINEL.encode()).replace(b"1988-03-14", b"1988-13-44")
    broken = broken.replace(b"Testmann", SENTINEL.encode()).replace(b"01.01.1990", b"44.13.1990")
    broken = broken.replace(b"AL-TESTI", SENTINEL.encode()).replace(b"<datum>1990-01-01", b"<datum>1990-13-44")
    path = folder / ("bad" + good_example(connector, folder).suffix)
    path.write_bytes(broken)
    return path


@pytest.fixture(params=NAMES)
def connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


@pytest.fixture(params=FILE_CONNECTORS)
def file_connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


@pytest.fixture(params=PULL_CONNECTORS)
def pull_connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


def test_the_registry_holds_file_and_pull_connectors() -> None:
    assert {"provider-csv", "jobcenter-export", "abh-xml"} <= set(FILE_CONNECTORS)
    assert "rest" in PULL_CONNECTORS


def test_every_connector_declares_name_format_and_mapping(connector) -> None:
    assert connector.name in NAMES
    assert connector.row_format in MAPPINGS, "the hub must know how to map its rows"
    assert isinstance(connector, type)
    assert hasattr(connector, "read_file") or hasattr(connector, "pull")


def test_file_connectors_reread_idempotently(file_connector, tmp_path: Path) -> None:
    if not isinstance(file_connector, FileConnector):
        pytest.skip("not a file connector: see the pull tests")
    path = good_example(file_connector, tmp_path)
    first, second = file_connector.read_file(path), file_connector.read_file(path)
    assert isinstance(first, FileBatch) and first.rows
    assert first.content_hash == second.content_hash
    assert [r.fields for r in first.rows] == [r.fields for r in second.rows]


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02binary\xff\xfe", 'äöü;;\n"unclosed'.encode("utf-16"), b"a,b\n" * 3])
def test_file_connectors_turn_garbage_into_rejections(file_connector, tmp_path: Path, garbage: bytes) -> None:
    if not isinstance(file_connector, FileConnector):
        pytest.skip("not a file connector")
    path = tmp_path / ("garbage" + file_connector.file_suffixes[0])
    path.write_bytes(garbage)
    batch = file_connector.read_file(path)  # must not raise
    assert batch.rejected_whole or batch.rejections or not batch.rows


def test_no_clear_value_in_any_rejection(file_connector, tmp_path: Path) -> None:
    if not isinstance(file_connector, FileConnector):
        pytest.skip("not a file connector")
    batch = file_connector.read_file(bad_example(file_connector, tmp_path))
    mapper = MAPPINGS[file_connector.row_format]
    texts = [r.describe() for r in batch.rejections]
    for row in batch.rows:
        mapped = mapper("contract", row)
        if isinstance(mapped, list):
            texts += [r.describe() for r in mapped]
    assert texts, "the broken date must be rejected somewhere"
    assert not [t for t in texts if SENTINEL in t or "13-44" in t or "44.13.1990" in t]


@responses.activate
def test_pull_connectors_round_trip_their_state(pull_connector) -> None:
    base = "https://provider.example"
    page = {
        "items": [
            {"record_id": "R-1", "family_name": "Haddad", "given_names": "Samira", "updated_at": "2026-11-20T10:00:00+01:00"}
        ],
        "next_cursor": None,
    }
    responses.get(f"{base}/cases", json=page)
    responses.get(f"{base}/health", json={"status": "ok"})
    instance = pull_connector(
        pull_connector.config_model.from_options(
            {"base_url": base, "token_env": "KIM_TEST_TOKEN"}, environ={"KIM_TEST_TOKEN": "s3cret-token"}
        )
    )
    first = instance.pull({})
    again = instance.pull(dict(first.state))
    assert first.state and dict(again.state) == dict(first.state)
    assert first.batch.content_hash == again.batch.content_hash
    health = instance.check()
    assert isinstance(health, HealthResult) and health.ok
    assert "s3cret-token" not in repr(instance.__dict__) and "s3cret-token" not in health.detail


def test_a_random_byte_soup_never_raises(file_connector, tmp_path: Path) -> None:
    if not isinstance(file_connector, FileConnector):
        pytest.skip("not a file connector")
    rng = random.Random(7)
    for i in range(20):
        path = tmp_path / f"soup{i}{file_connector.file_suffixes[0]}"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        file_connector.read_file(path)
