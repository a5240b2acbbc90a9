"""Ingest's worker processes give exactly what one process gives: same records, same rejections,
the same duplicate winning, in the same order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.pipeline import encode_pool
from kim_hub.pipeline.encoded_file import EncodedFile
from kim_hub.runtime import parallel
from kim_hub.synth import generate


@pytest.fixture
def batch(tmp_path: Path):
    generate(tmp_path / "drops", 150, seed=11, workers=1)
    path = next((tmp_path / "drops" / "inbox" / "caritas").glob("*.csv"))
    batch = ProviderCsvConnector.read_file(path)
    first = batch.rows[0]
    flawed = dataclasses.replace(batch.rows[1], fields={**batch.rows[1].fields, "birth_date": "not a date"})
    unattributable = dataclasses.replace(batch.rows[2], fields={**batch.rows[2].fields, "record_id": ""})
    twice = dataclasses.replace(first, row_number=len(batch.rows) + 2, fields={**first.fields, "case_status": "paused"})
    return dataclasses.replace(batch, rows=[first, flawed, unattributable, *batch.rows[3:], twice])


def encoded(batch, keys) -> tuple[list, list, list, set]:  # noqa: ANN001
    """(records in order, rejections, notes, ids named) as the ingest gets them; each record's
    encoding opened (sealed with a fresh nonce, it differs between any two runs: linkage.sealed)."""
    file = EncodedFile("caritas", batch, map_provider_row, keys, False)
    records = [
        dataclasses.replace(record, encoding=keys.open_encoding(record.encoding, record.source, record.content_hash))
        for chunk in file
        for record in chunk
    ]
    return records, file.rejections, file.notes, file.present


def test_the_pool_gives_what_one_process_gives(batch, keys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIM_HUB_WORKERS", "1")
    alone = encoded(batch, keys)
    monkeypatch.setenv("KIM_HUB_WORKERS", "2")
    monkeypatch.setattr(encode_pool, "POOL_MIN_ROWS", 10)
    monkeypatch.setattr(encode_pool, "CHUNK_ROWS", 7)  # many chunks, a short last one
    pooled = encoded(batch, keys)
    assert parallel._pool is not None, "the pool was used"
    assert pooled == alone
    records, rejections, notes, _present = pooled
    assert any(r.field == "record_id" and r.row == len(batch.rows) + 1 for r in rejections), "the duplicate is rejected"
    assert any(r.row == 4 for r in rejections), "the row without a record id is rejected"
    assert any(n.row == 3 and n.field == "birth_date" for n in notes), "the flawed row lands with a note"
    assert records[0].case_data["case_status"] != "paused" or batch.rows[0].fields["case_status"] == "paused"


def test_one_worker_never_starts_a_pool(batch, keys, monkeypatch: pytest.MonkeyPatch) -> None:
    parallel.release_workers()
    monkeypatch.setattr(encode_pool, "POOL_MIN_ROWS", 10)
    list(encode_pool.encode_rows("caritas", batch.rows, map_provider_row, keys, False, workers=1))
    assert parallel._pool is None


def test_by_default_one_worker_per_usable_core_up_to_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIM_HUB_WORKERS", raising=False)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert parallel.worker_processes() == 2
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: set(range(16)))
    assert parallel.worker_processes() == 4
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0})
    assert parallel.worker_processes() == 1
    monkeypatch.setenv("KIM_HUB_WORKERS", "1")
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert parallel.worker_processes() == 1
