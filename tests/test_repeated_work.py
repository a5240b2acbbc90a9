"""Work a sync does once, not once per record: the costs issue 23 (item 3) found repeated.

A push addresses every document by the id its body knows (``RecordIdForms.address``), and the
audit log names every record it writes about the same way (``pipeline.database.record_names``).
Each asked whether the source keeps its ids encrypted, which is its connectors' answer when
hub.toml does not say: a connector lookup per document. These tests count the asks themselves,
so they fail whenever the question is repeated per record again, whatever the machine's speed.
"""

from __future__ import annotations

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
