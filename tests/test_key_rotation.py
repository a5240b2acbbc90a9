"""Key rotation: every encoding re-made under the new key, no link lost, old key destroyed."""

from __future__ import annotations

import json
import shutil

from sqlalchemy import select

from kim_hub.hub_db.keystore import current_key_id, load_keys, scheme_path
from kim_hub.hub_db.models import IndexSegment, SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.linkage.encode import _big_int, _date_code, _encode_place, _encoded_part, _postcode_neighbours, _token_list
from kim_hub.linkage.encoding_bytes import _bloom_bytes, _triples, is_packed, unpack
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM, _bloom_positions, _diffusion_masks, _hmac_pads, _token
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.links import link_rows
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.rotation import rotate_keys
from tests.support import Hub
from tests.support.data import ABH_GOOD, GOOD, SAMIRA_AT_JOBCENTRE


def partition(home: HubHome) -> list[list[tuple[str, str]]]:
    """Persons as sets of records (ABH ids are keyed, so compare jobcenter/caritas ids + counts;
    the job centre's ids are tokens of the current key, so compare the ids they hold)."""
    forms = RecordIdForms.of(home, home.load_config())
    groups: dict[str, list[tuple[str, str]]] = {}
    for source, record_id, person, _status, _score in link_rows(home):
        known = forms.address(source, record_id)
        assert known is not None, "every token opens with the current key"
        groups.setdefault(person, []).append((source, known if source != "abh" else "abh"))
    return sorted(sorted(g) for g in groups.values())


def test_rotation_rekeys_everything_and_keeps_every_link(hub: Hub) -> None:
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.drop_rows("jobcenter", "j.csv", [SAMIRA_AT_JOBCENTRE])
    hub.drop("abh", "a.xml", ABH_GOOD.read_bytes())
    for source in ("caritas", "jobcenter", "abh"):
        hub.ingest(source)
    hub.link()
    before = partition(hub.home)
    with hub.sessions() as session:
        old_ids = {r.record_id: r.encoding for r in session.execute(select(SourceRecord)).scalars()}

    outcome = rotate_keys(hub.home, hub.config, hub.sessions)
    assert outcome.complete and outcome.records_rekeyed == len(old_ids)
    key_dir = hub.home.key_dir(hub.config)
    assert current_key_id(key_dir) == "k2" and not (key_dir / "hub-k1.key").exists()
    # nothing derived from the destroyed key stays cached in this process (the caches key on it)
    assert _token.cache_info().currsize == _bloom_positions.cache_info().currsize == _encoded_part.cache_info().currsize == 0
    assert _diffusion_masks.cache_info().currsize == _encode_place.cache_info().currsize == _hmac_pads.cache_info().currsize == 0
    assert _token_list.cache_info().currsize == _big_int.cache_info().currsize == 0
    assert _date_code.cache_info().currsize == _postcode_neighbours.cache_info().currsize == 0
    assert _triples.cache_info().currsize == _bloom_bytes.cache_info().currsize == 0
    with hub.sessions() as session:
        records = session.execute(select(SourceRecord)).scalars().all()
    assert {r.key_id for r in records} == {"k2"}
    assert all(r.encoding != old_ids.get(r.record_id) for r in records)
    new_keys = load_keys(key_dir)  # sealed with the new key version: they open with it
    assert all(is_packed(new_keys.open_encoding(r.encoding, r.source, r.content_hash)) for r in records)
    with hub.sessions() as session:  # the snapshot sealed with the destroyed key went in the same transaction
        assert session.execute(select(IndexSegment.id)).first() is None
    assert partition(hub.home) == before  # not a single link lost
    tokens = {r.record_id for r in records if r.source == "jobcenter"}
    assert len(tokens) == 1 and not tokens & set(old_ids) and not (key_dir / "record-ids-k1.key").exists()
    assert outcome.renamed == {"jobcenter": {hub.stored_id("jobcenter", "962D000001"): tokens.pop()}}  # the new key's token

    # the hub keeps working under the new key: a new delivery links to the re-keyed records
    hub.drop_rows("stadt", "s.csv", [GOOD[0].replace("C-1", "S-1")])
    hub.ingest("stadt", load_keys(key_dir))  # the new key
    hub.link()
    after = hub.pseudonyms()
    assert after[("stadt", "S-1")] == after[("caritas", "C-1")]
    with hub.sessions() as session:  # rebuilt by that run, sealed with the new key
        metas = session.execute(select(IndexSegment.data).where(IndexSegment.field == "_meta")).scalars().all()
    assert metas and {json.loads(bytes(m))["sealed_with"] for m in metas} == {"k2"}


def test_rotation_moves_a_home_of_plain_bloom_filters_to_the_current_scheme(hub: Hub) -> None:
    """A key version made before scheme 2 has no scheme marker: it keeps encoding plain Bloom
    filters (its stored records stay comparable with its new ones), and a rotation re-encodes
    every record under a new version of the current scheme (docs/operations.md, the upgrade)."""
    key_dir = hub.home.key_dir(hub.config)
    scheme_path(key_dir, "k1").unlink()  # as a home made before scheme 2
    legacy = load_keys(key_dir)
    assert legacy.scheme == PLAIN_BLOOM
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.drop_rows("stadt", "s.csv", [GOOD[0].replace("C-1", "S-1")])
    for source in ("caritas", "stadt"):
        hub.ingest(source, legacy)
    hub.link()
    before = partition(hub.home)

    def schemes() -> set[int]:
        with hub.sessions() as session:
            ring = keyring_of(session)
            return {
                unpack(ring.open(r.encoding, r.key_id, r.source, r.content_hash)).scheme
                for r in session.execute(select(SourceRecord)).scalars()
            }

    assert schemes() == {PLAIN_BLOOM}
    outcome = rotate_keys(hub.home, hub.config, hub.sessions)
    assert outcome.complete
    assert load_keys(key_dir).scheme == DIFFUSED_BLOOM and not scheme_path(key_dir, "k1").exists()
    assert schemes() == {DIFFUSED_BLOOM}
    hub.link()
    assert partition(hub.home) == before


def test_rotation_without_deliveries_changes_nothing(hub: Hub) -> None:
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.ingest("caritas")
    shutil.rmtree(hub.path / "archive" / "caritas")
    outcome = rotate_keys(hub.home, hub.config, hub.sessions)
    assert not outcome.complete and outcome.missing == {"caritas": 2}
    key_dir = hub.home.key_dir(hub.config)
    assert current_key_id(key_dir) == "k1" and (key_dir / "hub-k1.key").exists() and not (key_dir / "hub-k2.key").exists()
    assert not scheme_path(key_dir, "k2").exists()
    with hub.sessions() as session:
        assert {r.key_id for r in session.execute(select(SourceRecord)).scalars()} == {"k1"}
