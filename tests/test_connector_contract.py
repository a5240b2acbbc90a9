"""The standard connector suite: every registered connector, one contract, on its own example data.

Generated from the entry-point registry (as meltano's SDK generates tap tests from the tap
class), so a municipality's own connector package is held to the same rules the moment it is
installed: it declares a kind, a row format with a registered mapping and its example delivery;
the example lands as case summaries, bad input becomes rejections not exceptions, re-reading is
idempotent, state round-trips, and no clear value ever appears in an error. The cases are built
from each connector's ``example_delivery`` with persons chosen here, so the suite needs to know
nothing of a connector's format. The test plug-in in ``tests/plugins/`` (a row format of its own,
registered like any installed package) is covered exactly like the hub's own connectors.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson
from kim_hub.connectors.registry import available_connectors, is_file_connector, is_pull_connector, load_connector
from kim_hub.core.rows import FileBatch, HealthResult
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.registry import available_mappings, load_mapping

CANARY = "Zyxwvutsrq"  # a "clear name" planted in a bad row: must never reach an error text
IMPOSSIBLE_DATE = "1988-13-44"
BROKEN = (ExamplePerson("E-9", CANARY, "Samira", IMPOSSIBLE_DATE), *EXAMPLE_PERSONS)
NAMES = sorted(available_connectors())
FILE_CONNECTORS = [n for n in NAMES if is_file_connector(load_connector(n))]
PULL_CONNECTORS = [n for n in NAMES if is_pull_connector(load_connector(n))]


@pytest.fixture(params=NAMES)
def connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


@pytest.fixture(params=FILE_CONNECTORS)
def file_connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


@pytest.fixture(params=PULL_CONNECTORS)
def pull_connector(request: pytest.FixtureRequest):
    return load_connector(request.param)


def _mapped(row_format: str, batch: FileBatch) -> tuple[list[CaseSummary], list[str]]:
    """The batch's rows through the registered mapping: summaries, and the text of every rejection
    and of every note on a row that landed."""
    mapper = load_mapping(row_format)
    summaries: list[CaseSummary] = []
    texts = [r.describe() for r in batch.rejections]
    for row in batch.rows:
        mapped = mapper("contract", row)
        if isinstance(mapped, CaseSummary):
            summaries.append(mapped)
            texts += [n.describe() for n in mapped.notes]
        else:
            texts += [r.describe() for r in mapped]
    return summaries, texts


def test_the_registry_holds_file_and_pull_connectors_and_the_test_plug_in() -> None:
    assert {"provider-csv", "jobcenter-export", "abh-xml", "sozialamt-jsonl"} <= set(FILE_CONNECTORS)
    assert "rest" in PULL_CONNECTORS
    assert set(FILE_CONNECTORS) | set(PULL_CONNECTORS) == set(NAMES), "every connector declares its kind"


def test_every_connector_declares_a_row_format_with_a_registered_mapping(connector) -> None:
    assert connector.row_format in available_mappings(), "the hub must know how to map its rows"
    assert callable(load_mapping(connector.row_format))


def test_the_example_delivery_lands_as_case_summaries(file_connector, tmp_path: Path) -> None:
    path = file_connector.example_delivery(tmp_path, EXAMPLE_PERSONS)
    assert file_connector.accepts(path), "a connector accepts its own example"
    summaries, problems = _mapped(file_connector.row_format, file_connector.read_file(path))
    assert not problems
    assert sorted(s.identity.name.family_name.casefold() for s in summaries) == sorted(
        p.family_name.casefold() for p in EXAMPLE_PERSONS
    )


def test_file_connectors_reread_idempotently(file_connector, tmp_path: Path) -> None:
    path = file_connector.example_delivery(tmp_path, EXAMPLE_PERSONS)
    first, second = file_connector.read_file(path), file_connector.read_file(path)
    assert isinstance(first, FileBatch) and first.rows
    assert first.content_hash == second.content_hash
    assert [r.fields for r in first.rows] == [r.fields for r in second.rows]


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02binary\xff\xfe", 'äöü;;\n"unclosed'.encode("utf-16"), b"a,b\n" * 3])
def test_file_connectors_turn_garbage_into_rejections(file_connector, tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / ("garbage" + file_connector.file_suffixes[0])
    path.write_bytes(garbage)
    batch = file_connector.read_file(path)  # must not raise
    assert batch.rejected_whole or batch.rejections or not batch.rows


def test_no_clear_value_in_any_rejection(file_connector, tmp_path: Path) -> None:
    batch = file_connector.read_file(file_connector.example_delivery(tmp_path, BROKEN))
    _summaries, texts = _mapped(file_connector.row_format, batch)
    assert texts, "the impossible date must be noted or rejected somewhere"
    assert not [t for t in texts if CANARY in t or "13-44" in t or "44.13" in t]


def test_a_random_byte_soup_never_raises(file_connector, tmp_path: Path) -> None:
    rng = random.Random(7)
    for i in range(20):
        path = tmp_path / f"soup{i}{file_connector.file_suffixes[0]}"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        file_connector.read_file(path)


def test_pull_connectors_land_their_example_and_round_trip_their_state(pull_connector, tmp_path: Path) -> None:
    instance = pull_connector.example_delivery(tmp_path, EXAMPLE_PERSONS)
    first = instance.pull({})
    summaries, problems = _mapped(pull_connector.row_format, first.batch)
    assert not problems and len(summaries) == len(EXAMPLE_PERSONS)
    again = instance.pull(dict(first.state))
    assert first.state and dict(again.state) == dict(first.state)
    assert first.batch.content_hash == again.batch.content_hash
    health = instance.check()
    assert isinstance(health, HealthResult) and health.ok
    assert "example-token" not in repr(instance) and "example-token" not in health.detail


def test_no_clear_value_in_a_pull_connectors_rejections(pull_connector, tmp_path: Path) -> None:
    _summaries, texts = _mapped(pull_connector.row_format, pull_connector.example_delivery(tmp_path, BROKEN).pull({}).batch)
    assert texts, "the impossible date must be noted or rejected somewhere"
    assert not [t for t in texts if CANARY in t or "13-44" in t]
