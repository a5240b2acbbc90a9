"""Encodings sealed at rest (``linkage.sealed``, ``hub_db.sealed_encodings``): what the database
holds is fresh random bytes per record, opened only in memory, bound to its row; a database from
before sealing keeps working and is sealed by the upgrade (`kim-hub init`)."""

from __future__ import annotations

import binascii
import json
import os

import numpy as np
import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, select, text, update

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db import index_snapshot, sealed_encodings
from kim_hub.hub_db.database import alembic_config, session_factory
from kim_hub.hub_db.link_queue import waiting
from kim_hub.hub_db.models import AuditEntry, IndexSegment, SourceRecord
from kim_hub.hub_db.sealed_encodings import KeyRing, keyring_of
from kim_hub.linkage.encoding_bytes import as_dict, unpack
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.sealed import (
    PACKED_PAD_FLOOR,
    PAD_BLOCK,
    PAD_FLOOR,
    SEALED_PREFIX,
    SealBrokenError,
    is_sealed,
    open_value,
    padded_length,
    seal_value,
)
from kim_hub.pipeline.setup import initialise_home
from tests.support import Hub
from tests.support.data import GOOD


def test_a_sealed_value_opens_only_with_its_key_and_place_and_hides_its_length() -> None:
    key, other = os.urandom(32), os.urandom(32)
    short, long = b'{"names":[]}', b'{"names":[' + b"1" * 2000 + b"]}"
    first, second = seal_value(key, short, b"here"), seal_value(key, short, b"here")
    assert first != second, "a fresh nonce each time: equal encodings never look equal"
    assert is_sealed(first) and not is_sealed(short.decode())
    assert open_value(key, first, b"here") == short and open_value(key, seal_value(key, long, b"here"), b"here") == long
    assert len(first) == len(seal_value(key, long, b"here")), "both padded to the floor"
    for wrong_key, place in ((other, b"here"), (key, b"elsewhere")):
        with pytest.raises(SealBrokenError):
            open_value(wrong_key, first, place)
    tampered = first[:-8] + ("A" if first[-8] != "A" else "B") + first[-7:]
    with pytest.raises(SealBrokenError):
        open_value(key, tampered, b"here")
    assert padded_length(0) == PAD_FLOOR and padded_length(PAD_FLOOR) == PAD_FLOOR + PAD_BLOCK
    binary_short, binary_long = b"\x01" + b"\x00" * 10, b"\x01" + b"\x00" * (PACKED_PAD_FLOOR - 10)
    assert len(seal_value(key, binary_short, b"here")) == len(seal_value(key, binary_long, b"here")) < len(first), (
        "binary encodings pad to their own, lower floor"
    )


@pytest.mark.parametrize("padding", [b"\x00" * 40, b"\x80" + b"\x00" * 20 + b"\x01" + b"\x00" * 9])
def test_a_value_whose_padding_is_not_a_marker_and_zeros_does_not_open(padding: bytes) -> None:
    """Only a value sealed with the right padding opens, even when its tag holds (a value sealed
    by a hub that padded otherwise, or a bug): no marker, or anything but zeros after it."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from kim_hub.linkage import sealed

    key, nonce = os.urandom(32), os.urandom(sealed.NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, b"\x01\x02" + padding, sealed._CONTEXT + b"here")
    stored = SEALED_PREFIX + binascii.b2a_base64(nonce + body, newline=False).decode("ascii")
    with pytest.raises(SealBrokenError, match="padding"):
        open_value(key, stored, b"here")


_KEY = os.urandom(32)


@settings(max_examples=300, deadline=None)
@given(plain=st.binary(min_size=1, max_size=1500), damage=st.text(max_size=6), at=st.integers(min_value=0))
def test_sealed_base64_is_the_standard_librarys_and_damage_only_fails_to_open(plain: bytes, damage: str, at: int) -> None:
    """The sealed text is written and read by pybase64: the same text as the standard library's
    base64 (what earlier releases stored opens), and a damaged value, whatever characters it
    gained, is a value that does not open (``SealBrokenError``), never another error."""
    sealed = seal_value(_KEY, plain, b"here")
    body = sealed[len(SEALED_PREFIX) :]
    assert binascii.b2a_base64(binascii.a2b_base64(body), newline=False).decode("ascii") == body
    assert open_value(_KEY, sealed, b"here") == plain
    position = len(SEALED_PREFIX) + at % (len(body) + 1)
    damaged = sealed[:position] + damage + sealed[position:]
    try:
        assert open_value(_KEY, damaged, b"here") == plain, "only characters base64 skips may leave it opening"
    except SealBrokenError:
        pass


def test_the_stored_encodings_are_sealed_and_never_alike(hub: Hub) -> None:
    same_person = [GOOD[0], GOOD[0].replace("C-1", "C-9")]  # one identity twice: equal tokens in memory
    hub.drop_rows("caritas", "c.csv", same_person + GOOD[1:])
    hub.ingest("caritas")
    hub.link()
    with hub.sessions() as session:
        rows = session.execute(select(SourceRecord)).scalars().all()
        stored = [r.encoding for r in rows]
        assert all(is_sealed(s) for s in stored) and len(set(stored)) == len(stored)
        assert len({len(s) for s in stored}) == 1, "padded alike"
        opened = {r.record_id: as_dict(keyring_of(session).open(r.encoding, r.key_id, r.source, r.content_hash)) for r in rows}
        assert opened["C-1"]["names"] == opened["C-9"]["names"], "in memory the tokens are equal, as comparison needs"
        metas = session.execute(select(IndexSegment.data).where(IndexSegment.field == "_meta")).scalars().all()
        assert [json.loads(bytes(m))["sealed_with"] for m in metas] == [hub.keys.key_id]
    assert hub.pseudonyms()[("caritas", "C-1")] == hub.pseudonyms()[("caritas", "C-9")]


def test_an_encoding_moved_to_another_row_is_set_aside_and_a_session_without_keys_reads_none(hub: Hub) -> None:
    """The moved encoding does not open in its new row: that record is read without identity and
    named, the link run goes on for the others (it does not halt the hub), and the next load tries
    the row again rather than trusting the snapshot."""
    same_person = [GOOD[0], GOOD[0].replace("C-1", "C-9")]
    hub.drop_rows("caritas", "c.csv", same_person + GOOD[1:])
    hub.ingest("caritas")
    with hub.sessions() as session, session.begin():
        first, second = session.execute(select(SourceRecord).order_by(SourceRecord.id.desc()).limit(2)).scalars()
        moved, moved_id, copied_id = first.id, first.record_id, second.record_id
        session.execute(update(SourceRecord).where(SourceRecord.id == first.id).values(encoding=second.encoding))
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
    row = int(np.searchsorted(loaded.arrays.ids, moved))
    assert loaded.unopened.tolist() == [moved]
    assert loaded.arrays.n_names[row] == 0 and not loaded.arrays.d_has[row]
    outcome = hub.link()
    assert outcome.records_set_aside == 1 and outcome.records_linked == len(GOOD)
    person = hub.pseudonyms()
    assert person[("caritas", "C-1")] == person[("caritas", "C-9")], "the others link as always"
    assert person[("caritas", moved_id)] is None, "no person on what it is not"
    assert person[("caritas", copied_id)] is not None
    with hub.sessions() as session:
        assert index_snapshot.load(session).unopened.tolist() == [moved], "tried again, not trusted from the snapshot"
        assert waiting(session) == {moved}, "it waits in the queue until it opens"
    keyless = session_factory(hub.engine)
    with keyless() as session, pytest.raises(ConfigError, match="without the keys"):
        index_snapshot.load(session)


def test_a_linked_record_that_no_longer_opens_keeps_its_person_until_it_opens_again(hub: Hub) -> None:
    """A record of a person whose other records are linked again is not judged without its
    identity (before: it fell out of its person as a record of its own, and that split went out
    to the bodies): it keeps its link, waits in the queue, and is linked as always once it opens."""
    hub.drop_rows("caritas", "c.csv", [GOOD[0], GOOD[0].replace("C-1", "C-9"), *GOOD[1:]])
    hub.ingest("caritas")
    hub.link()
    before = hub.pseudonyms()
    with hub.sessions() as session, session.begin():
        damaged = session.execute(select(SourceRecord).where(SourceRecord.record_id == "C-9")).scalar_one()
        other = session.execute(select(SourceRecord).where(SourceRecord.record_id == "C-1")).scalar_one()
        damaged_id, kept_encoding = damaged.id, damaged.encoding
        session.execute(update(SourceRecord).where(SourceRecord.id == damaged_id).values(encoding=other.encoding))
        session.execute(delete(IndexSegment))  # no snapshot (as after an upgrade): every row is read again
    hub.drop_rows("caritas", "c2.csv", [GOOD[0].replace("C-1", "C-5")])  # a new record of that person
    hub.ingest("caritas")
    outcome = hub.link()
    assert (outcome.records_set_aside, outcome.records_linked, outcome.persons_split) == (1, 1, 0)
    person = hub.pseudonyms()
    assert person[("caritas", "C-9")] == person[("caritas", "C-1")] == person[("caritas", "C-5")] == before[("caritas", "C-1")]
    with hub.sessions() as session, session.begin():
        assert waiting(session) == set(), "it was not waiting: its link stands as it was made"
        session.execute(update(SourceRecord).where(SourceRecord.id == damaged_id).values(encoding=kept_encoding))
    hub.drop_rows("caritas", "c3.csv", [GOOD[0].replace("C-1", "C-6")])
    hub.ingest("caritas")
    outcome = hub.link()
    assert (outcome.records_set_aside, outcome.records_linked) == (0, 1)
    assert len({hub.pseudonyms()[("caritas", r)] for r in ("C-1", "C-5", "C-6", "C-9")}) == 1


def test_a_database_from_before_sealing_is_read_as_it_is_and_sealed_by_init(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealed_encodings, "SEAL_CHUNK", 1)  # a chunk per row: the upgrade goes chunk by chunk
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.ingest("caritas")
    hub.link()
    before = hub.pseudonyms()
    with hub.sessions() as session, session.begin():  # as an older release stored them: clear JSON, a clear snapshot
        for record in session.execute(select(SourceRecord)).scalars():
            record.encoding = unpack(hub.keys.open_encoding(record.encoding, record.source, record.content_hash)).to_json()
        session.execute(delete(IndexSegment))
    with hub.sessions() as session:
        arrays = index_snapshot.load(session).arrays  # read as it is: no key needed for clear JSON
    keyless = session_factory(hub.engine)
    with keyless() as session:
        assert index_snapshot.load(session).arrays.ids.tolist() == arrays.ids.tolist()
    _config, settled = initialise_home(hub.home)  # the upgrade: `kim-hub init`
    with hub.sessions() as session:
        stored = session.execute(select(SourceRecord.encoding)).scalars().all()
        sealed = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "encodings.seal")).scalars().all()
    assert stored and all(is_sealed(s) for s in stored)
    assert sealed == [{"records": len(stored)}] and settled.encodings_sealed == len(stored)
    hub.link()
    assert hub.pseudonyms() == before


def test_the_migration_drops_a_snapshot_written_in_clear(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0015")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO index_segments (segment, field, part, data) VALUES (0, 'fam_bloom', 0, :data)"),
            {"data": b"\x01" * 64},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM index_segments")).scalar_one() == 0
    engine.dispose()


def test_a_key_ring_loads_each_version_once_and_names_a_missing_one(hub: Hub) -> None:
    calls: list[str] = []

    def load(key_id: str) -> EncodingKeys:
        calls.append(key_id)
        if key_id != hub.keys.key_id:
            raise ConfigError(f"key version {key_id} is missing")
        return hub.keys

    ring = KeyRing(load, lambda: hub.keys.key_id)
    assert ring.current() is ring.keys(hub.keys.key_id) and calls == [hub.keys.key_id]
    with pytest.raises(ConfigError, match="missing"):
        ring.keys("k9")
    ring.forget()
    ring.current()
    assert calls == [hub.keys.key_id, "k9", hub.keys.key_id]
    assert KeyRing.holding(hub.keys).current() is hub.keys
