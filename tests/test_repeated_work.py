"""Work a sync does once, not once per record: the costs issue 23 (item 3) found repeated.

A push addresses every document by the id its body knows (``RecordIdForms.address``), and the
audit log names every record it writes about the same way (``pipeline.database.record_names``).
Each asked whether the source keeps its ids encrypted, which is its connectors' answer when
hub.toml does not say: a connector lookup per document. These tests count the asks themselves,
so they fail whenever the question is repeated per record again, whatever the machine's speed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline import record_ids
from kim_hub.pipeline.home import HubConfig, SourceConfig
from kim_hub.pipeline.record_ids import RecordIdForms


def test_addressing_many_records_asks_each_source_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[SourceConfig] = []
    real = record_ids.seals_record_ids

    def counted(settings: SourceConfig) -> bool:
        asked.append(settings)
        return real(settings)

    monkeypatch.setattr(record_ids, "seals_record_ids", counted)
    config = HubConfig(
        sources={
            "caritas": SourceConfig(connectors=["provider-csv"], encrypt_record_ids=None),
            "jobcenter": SourceConfig(connectors=["jobcenter-export"], encrypt_record_ids=None),
        }
    )
    keys = EncodingKeys.from_master(b"k" * 32, "test", record_id_key=b"r" * 64)
    forms = RecordIdForms(config, lambda: keys)
    tokens = [forms.stored("jobcenter", f"962D{n:06d}") for n in range(100)]
    assert [forms.address("caritas", f"C-{n}") for n in range(100)] == [f"C-{n}" for n in range(100)]
    assert [forms.address("jobcenter", token) for token in tokens] == [f"962D{n:06d}" for n in range(100)]
    assert len(asked) == 2  # once per source, however many records


def test_an_encode_worker_compares_the_keys_of_a_chunk_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk reaches a worker with its own unpickled copy of the keys, and the encoding
    caches look the keys up with every name part, date and place: compared field by field on
    each hit unless the copy is exchanged for the first one seen (``keyed.one_instance``)."""
    from kim_hub.connectors.provider_csv import ProviderCsvConnector
    from kim_hub.linkage import keyed
    from kim_hub.linkage.encode import forget_cached_encodings
    from kim_hub.mappings.provider_csv import map_provider_row
    from kim_hub.pipeline.encode_pool import encode_chunk, encode_chunk_pickled
    from kim_hub.synth import generate

    generate(tmp_path / "drops", 120, seed=5, workers=1)
    rows = ProviderCsvConnector.read_file(next((tmp_path / "drops" / "inbox" / "caritas").glob("*.csv"))).rows
    keys = EncodingKeys.from_master(b"k" * 32, "test", record_id_key=b"r" * 64)
    forget_cached_encodings()
    compared: list[object] = []
    real_eq = EncodingKeys.__eq__

    def counted(self: EncodingKeys, other: object) -> bool:
        compared.append(other)
        return real_eq(self, other)

    monkeypatch.setattr(EncodingKeys, "__eq__", counted)
    chunks = [rows[i : i + 10] for i in range(0, len(rows), 10)]
    for chunk in chunks:  # as a worker gets them: a copy of the keys with each chunk
        encode_chunk_pickled("caritas", chunk, map_provider_row, pickle.loads(pickle.dumps(keys)), False)
    assert 0 < len(compared) <= len(chunks)  # a copy is matched once, when its chunk comes in
    forget_cached_encodings()
    assert not keyed._one_instance, "forgetting the caches forgets the keys kept for them"
    compared.clear()
    encode_chunk("caritas", rows[:10], map_provider_row, keys, False)
    assert not compared  # in one process the keys are the very same object throughout
    monkeypatch.setattr(EncodingKeys, "__eq__", real_eq)
    for n in range(3 * keyed._KEPT_KEYS):  # a process that meets many key sets keeps only a few
        other = EncodingKeys.from_master(bytes([n]) * 32, f"k{n}")
        assert keyed.one_instance(other) is other and keyed.one_instance(pickle.loads(pickle.dumps(other))) is other
    assert len(keyed._one_instance) <= keyed._KEPT_KEYS
