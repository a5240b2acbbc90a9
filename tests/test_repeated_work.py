"""Work a sync does once, not once per record: the costs issue 23 (item 3) found repeated.

A first sync of the standard sample spent half of its CPU asking, for every document it pushed,
which connectors the source uses, and each ask scanned every installed package's entry points.
These tests count the expensive step itself, so they fail whenever it is repeated per record
again, whatever the machine's speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata

import pytest

from kim_hub.connectors import registry
from kim_hub.core.errors import ConfigError
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.home import HubConfig, SourceConfig
from kim_hub.pipeline.record_ids import RecordIdForms


@pytest.fixture
def entry_point_scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every scan of the installed connectors' entry points, counted (the process's loaded
    connectors forgotten first, so that the test starts cold)."""
    scans: list[str] = []

    def counted(group: str) -> metadata.EntryPoints:
        scans.append(group)
        return metadata.entry_points(group=group)

    monkeypatch.setattr(registry, "entry_points", counted)
    monkeypatch.setattr(registry, "_loaded", {}, raising=False)
    yield scans


def test_a_connector_is_looked_up_once_per_process(entry_point_scans: list[str]) -> None:
    first = registry.load_connector("provider-csv")
    assert all(registry.load_connector("provider-csv") is first for _ in range(20))
    assert len(entry_point_scans) == 1


def test_an_unknown_connector_is_looked_up_afresh_every_time(entry_point_scans: list[str]) -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown connector"):
            registry.load_connector("not-installed")
    assert len(entry_point_scans) == 2  # a plug-in installed meanwhile would be found


def test_addressing_many_records_asks_each_source_s_connectors_once(entry_point_scans: list[str]) -> None:
    """A push addresses every document by its record id (``RecordIdForms.address``); whether the
    source keeps its ids encrypted is its connectors' answer when hub.toml does not say."""
    config = HubConfig(sources={"caritas": SourceConfig(connectors=["provider-csv"], encrypt_record_ids=None)})
    forms = RecordIdForms(config, lambda: EncodingKeys.from_master(b"k" * 32, "test"))
    assert [forms.address("caritas", f"C-{n}") for n in range(200)] == [f"C-{n}" for n in range(200)]
    assert len(entry_point_scans) <= 1
