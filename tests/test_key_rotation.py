"""Key rotation: every encoding re-made under the new key, no link lost, old key destroyed."""

from __future__ import annotations

import shutil

from sqlalchemy import select

from kim_hub.hub_db.keystore import current_key_id, load_keys
from kim_hub.hub_db.models import SourceRecord
from kim_hub.linkage.encode import _encoded_part
from kim_hub.linkage.keyed import _bloom_positions, _token
from kim_hub.pipeline.ingest import ingest_source
from kim_hub.pipeline.linking import link_index
from kim_hub.pipeline.links import link_rows
from kim_hub.pipeline.rotation import rotate_keys
from tests.test_delivery_outcomes import FIXTURES, deliver
from tests.test_ingest_pipeline import GOOD, SAMIRA_AT_JOBCENTRE, drop


def partition(home) -> list[list[tuple[str, str]]]:
    """Persons as sets of records (ABH ids are keyed, so compare jobcenter/caritas ids + counts)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for source, record_id, person, _status, _score in link_rows(home):
        groups.setdefault(person, []).append((source, record_id if source != "abh" else "abh"))
    return sorted(sorted(g) for g in groups.values())


def test_rotation_rekeys_everything_and_keeps_every_link(hub) -> None:
    home, config, sessions, keys = hub
    drop(home, "caritas", "c.csv", GOOD)
    drop(home, "jobcenter", "j.csv", [SAMIRA_AT_JOBCENTRE])
    deliver(home, "abh", "a.xml", (FIXTURES / "abh" / "good.xml").read_bytes())
    for source in ("caritas", "jobcenter", "abh"):
        ingest_source(home, config, source, keys, sessions)
    link_index(sessions, config)
    before = partition(home)
    with sessions() as session:
        old_ids = {r.record_id: r.encoding for r in session.execute(select(SourceRecord)).scalars()}

    outcome = rotate_keys(home, config, sessions)
    assert outcome.complete and outcome.records_rekeyed == len(old_ids)
    key_dir = home.key_dir(config)
    assert current_key_id(key_dir) == "k2" and not (key_dir / "hub-k1.key").exists()
    # nothing derived from the destroyed key stays cached in this process (the caches key on it)
    assert _token.cache_info().currsize == _bloom_positions.cache_info().currsize == _encoded_part.cache_info().currsize == 0
    with sessions() as session:
        records = session.execute(select(SourceRecord)).scalars().all()
    assert {r.key_id for r in records} == {"k2"}
    assert all(r.encoding != old_ids.get(r.record_id) for r in records)
    assert partition(home) == before  # not a single link lost

    # the hub keeps working under the new key: a new delivery links to the re-keyed records
    drop(home, "stadt", "s.csv", [GOOD[0].replace("C-1", "S-1")])
    ingest_source(home, config, "stadt", load_keys(key_dir), sessions)
    link_index(sessions, config)
    after = {(s, r): p for s, r, p, _st, _sc in link_rows(home)}
    assert after[("stadt", "S-1")] == after[("caritas", "C-1")]


def test_rotation_without_deliveries_changes_nothing(hub) -> None:
    home, config, sessions, keys = hub
    drop(home, "caritas", "c.csv", GOOD)
    ingest_source(home, config, "caritas", keys, sessions)
    shutil.rmtree(home.path / "archive" / "caritas")
    outcome = rotate_keys(home, config, sessions)
    assert not outcome.complete and outcome.missing == {"caritas": 2}
    key_dir = home.key_dir(config)
    assert current_key_id(key_dir) == "k1" and (key_dir / "hub-k1.key").exists() and not (key_dir / "hub-k2.key").exists()
    with sessions() as session:
        assert {r.key_id for r in session.execute(select(SourceRecord)).scalars()} == {"k1"}
