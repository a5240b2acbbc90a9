"""The stored columnar snapshot of the index is only ever a faster way to the same arrays.

Every test compares what ``index_snapshot.load`` gives with the arrays built straight from the
JSON encodings (the record of truth), after the things that could make a snapshot lie: a later
delivery, a record changed behind the link queue's back (as a key rotation does), a damaged or
foreign-format snapshot, a link run that rolled back, and an erasure.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kim_hub.hub_db import index_snapshot
from kim_hub.hub_db.erasure import erase_records
from kim_hub.hub_db.link_queue import enqueue
from kim_hub.hub_db.master_index import link_pending
from kim_hub.hub_db.models import IndexSegment, SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.linkage.columnar import EncodingArrays
from kim_hub.linkage.columnar_packed import from_opened_rows
from kim_hub.linkage.encoding_bytes import unpack
from kim_hub.synth import generate
from tests.support import Hub


def _deliver(hub: Hub, persons: int, seed: int, prefix: str = "") -> None:
    """A generated population's exports (as UTF-8), ingested; ``prefix``: new record ids."""
    drops = hub.path.parent / f"drops-{seed}"
    generate(drops, persons, seed)
    for path in (drops / "inbox").rglob("*.csv"):
        text = path.read_text(
            encoding="utf-8-sig" if path.read_bytes().startswith(b"\xef\xbb\xbf") else "cp1252" if not _utf8(path) else "utf-8"
        )
        if prefix:  # fresh ids: a new file of new persons
            lines = text.splitlines()
            text = "\n".join(lines[:1] + [prefix + line for line in lines[1:]]) + "\n"
        hub.drop(path.parent.name, f"{prefix}{path.name}", text)
    hub.ingest_all()


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _truth(session: Session) -> EncodingArrays:
    """The arrays straight from the records' JSON (opened), each row with its source's body number."""
    columns = (SourceRecord.id, SourceRecord.encoding, SourceRecord.key_id, SourceRecord.content_hash, SourceRecord.source)
    rows = session.execute(select(*columns).order_by(SourceRecord.id)).all()
    ring = keyring_of(session)
    arrays = from_opened_rows((pk, ring.open(stored, key_id, source, digest)) for pk, stored, key_id, digest, source in rows)
    names = sorted({source for *_, source in rows})
    arrays.body = np.array([names.index(source) for *_, source in rows], dtype=np.int16)
    return arrays


def _same(a: EncodingArrays, b: EncodingArrays) -> None:
    assert np.array_equal(a.ids, b.ids)
    for f in fields(EncodingArrays):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x.ndim > 1:  # padding width may differ: compare the common part, the rest must be padding
            width = tuple(slice(0, min(p, q)) for p, q in zip(x.shape[1:], y.shape[1:]))
            assert np.array_equal(x[(slice(None), *width)], y[(slice(None), *width)]), f.name
            assert x.shape == y.shape or f.name not in ("ids",)
        else:
            assert np.array_equal(x, y), f.name


def _segments(session: Session) -> list[int]:
    return sorted(set(session.execute(select(IndexSegment.segment)).scalars()))


def test_the_snapshot_gives_the_json_arrays_and_a_delta_only_appends(hub: Hub) -> None:
    _deliver(hub, 40, seed=3)
    hub.link()
    with hub.sessions() as session:
        assert _segments(session) == [0]
        loaded = index_snapshot.load(session)
        assert not loaded.reread.any(), "a fresh snapshot is used whole"
        _same(loaded.arrays, _truth(session))
    _deliver(hub, 5, seed=4, prefix="N")
    hub.link()
    with hub.sessions() as session:
        assert _segments(session) == [0, 1], "the delta run appends its rows"
        loaded = index_snapshot.load(session)
        assert not loaded.reread.any()
        _same(loaded.arrays, _truth(session))


def test_a_record_changed_behind_the_queue_is_read_again(hub: Hub) -> None:
    """A key rotation rewrites encodings, key id and content hash without queueing the record.
    (The rows changed here hold their encodings as clear JSON, as a database from before sealing
    did: no key version "k-rotated" is needed to read them.)"""
    _deliver(hub, 30, seed=5)
    hub.link()
    with hub.sessions() as session, session.begin():
        first, second = session.execute(select(SourceRecord).order_by(SourceRecord.id).limit(2)).scalars()
        clear = unpack(hub.keys.open_encoding(second.encoding, second.source, second.content_hash)).to_json()
        session.execute(
            update(SourceRecord)
            .where(SourceRecord.id == first.id)
            .values(encoding=clear, content_hash="f" * 16, key_id="k-rotated")
        )
        session.execute(update(SourceRecord).where(SourceRecord.id == second.id).values(encoding=clear, key_id="k-rotated"))
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
        assert loaded.reread.sum() == 2
        _same(loaded.arrays, _truth(session))


def test_a_damaged_or_foreign_snapshot_is_rebuilt_never_trusted(hub: Hub) -> None:
    _deliver(hub, 30, seed=6)
    hub.link()
    with hub.sessions() as session, session.begin():
        piece = session.execute(select(IndexSegment).where(IndexSegment.field == "fam_bloom")).scalars().first()
        piece.data = bytes(piece.data)[:-8]  # a short piece
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
        assert loaded.reread.all() and loaded.segments == 0
        _same(loaded.arrays, _truth(session))
    with hub.sessions() as session, session.begin():  # the next run writes it anew
        enqueue(session, [1])
        link_pending(session)
    with hub.sessions() as session, session.begin():
        assert _segments(session) == [0] and not index_snapshot.load(session).reread.any()
        meta = session.execute(select(IndexSegment).where(IndexSegment.field == "_meta")).scalar_one()
        meta.data = json.dumps({**json.loads(meta.data), "format": 999}).encode()
    with hub.sessions() as session:
        assert index_snapshot.load(session).reread.all()


def test_a_link_run_that_rolls_back_leaves_no_snapshot(hub: Hub) -> None:
    _deliver(hub, 20, seed=7)
    with hub.sessions() as session:
        session.begin()
        link_pending(session)
        assert _segments(session) == [0]
        session.rollback()  # as a crash before the commit would
    with hub.sessions() as session:
        assert _segments(session) == []
        loaded = index_snapshot.load(session)
        assert loaded.reread.all()
        _same(loaded.arrays, _truth(session))


def test_erased_records_leave_the_snapshot(hub: Hub) -> None:
    _deliver(hub, 30, seed=8)
    hub.link()
    _deliver(hub, 4, seed=9, prefix="N")
    hub.link()  # a second segment, so erasure must reach both
    with hub.sessions() as session, session.begin():
        gone = [int(i) for i in session.execute(select(SourceRecord.id).order_by(SourceRecord.id.desc()).limit(2)).scalars()]
        gone.append(int(session.execute(select(SourceRecord.id).order_by(SourceRecord.id).limit(1)).scalar_one()))
        erase_records(session, gone, "test")
    with hub.sessions() as session:
        assert _segments(session) == [0], "rewritten as one segment"
        stored = {int(i) for part, _d in index_snapshot._read_segments(session) for i in part.ids}
        assert stored and not stored & set(gone)
        loaded = index_snapshot.load(session)
        assert not loaded.reread.any()
        _same(loaded.arrays, _truth(session))
    with hub.sessions() as session, session.begin():  # no snapshot at all: erasure has nothing to rewrite
        session.execute(delete(IndexSegment))
        erase_records(session, [int(loaded.arrays.ids[0])], "test")
        assert _segments(session) == []


def test_a_first_load_parsed_in_worker_processes_gives_the_json_arrays(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from kim_hub.runtime import parallel

    _deliver(hub, 60, seed=9)
    monkeypatch.setattr(index_snapshot, "PARSE_CHUNK", 17)  # many chunks, a short last one
    monkeypatch.setenv("KIM_HUB_WORKERS", "2")
    parallel.release_workers()
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
        assert parallel._pool is not None, "the chunks went to worker processes"
        assert loaded.reread.all()
        _same(loaded.arrays, _truth(session))


def _wanted_by_this_process(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The ids each call of ``_stored_rows`` asked for: the rows this process reads itself."""
    asked: list[list[int]] = []
    read_here = index_snapshot._stored_rows

    def recording(session: Session, wanted: np.ndarray, total: int):
        asked.append(wanted.tolist())
        return read_here(session, wanted, total)

    monkeypatch.setattr(index_snapshot, "_stored_rows", recording)
    return asked


def _delivered_for_two_workers(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """60 persons ingested, loaded in chunks of 17 by two fresh worker processes; what this
    process reads itself is recorded (``_wanted_by_this_process``)."""
    from kim_hub.runtime import parallel

    _deliver(hub, 60, seed=9)
    monkeypatch.setattr(index_snapshot, "PARSE_CHUNK", 17)
    monkeypatch.setenv("KIM_HUB_WORKERS", "2")
    parallel.release_workers()
    return _wanted_by_this_process(monkeypatch)


@pytest.mark.parametrize("hub", ["sqlite"], indirect=True)  # a database file only: other rows go through this process
def test_a_first_load_from_a_database_file_is_read_by_the_workers(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite: each worker reads its range of records itself; none goes through this process,
    which still gives the parsed chunks' heap back once they are assembled."""
    asked = _delivered_for_two_workers(hub, monkeypatch)
    trims: list[None] = []
    monkeypatch.setattr(index_snapshot, "return_freed_memory", lambda: trims.append(None))
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
        assert asked == [[]] and trims
        _same(loaded.arrays, _truth(session))


@pytest.mark.parametrize("hub", ["sqlite"], indirect=True)  # a database file only: other rows go through this process
def test_a_row_the_workers_read_otherwise_than_this_transaction_is_read_here(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record changed in the loading transaction (as another process's commit would make it
    differ): the workers read the committed row, whose content and digest differ, so this
    process reads it again, and the index is what the transaction sees."""
    asked = _delivered_for_two_workers(hub, monkeypatch)
    with hub.sessions() as session:
        records = session.execute(select(SourceRecord.id, SourceRecord.source).order_by(SourceRecord.id)).all()
        changed, source = records[40]
        model = next(pk for pk, other in records[41:] if other == source)
        other = session.get(SourceRecord, model)
        assert other is not None
        session.execute(
            update(SourceRecord)
            .where(SourceRecord.id == changed)
            .values(encoding=other.encoding, content_hash=other.content_hash, key_id=other.key_id)
        )
        loaded = index_snapshot.load(session)
        assert asked == [[changed]]
        _same(loaded.arrays, _truth(session))
        row = int(np.searchsorted(loaded.arrays.ids, changed))
        assert loaded.arrays.record(row) == loaded.arrays.record(int(np.searchsorted(loaded.arrays.ids, model)))


@pytest.mark.parametrize("hub", ["sqlite"], indirect=True)
def test_when_the_workers_cannot_read_the_file_this_process_reads_it(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database file another connection cannot open (here: a path that is not the file) stops
    nobody: the rows are read through this process, and the index is whole."""
    _deliver(hub, 60, seed=9)
    monkeypatch.setattr(index_snapshot, "PARSE_CHUNK", 17)
    monkeypatch.setattr(index_snapshot, "worker_processes", lambda: 2)
    monkeypatch.setattr(index_snapshot, "map_in_processes", lambda task, items, workers: map(task, items))
    monkeypatch.setattr(index_snapshot, "_file_database", lambda session: f"sqlite:///{hub.path}/no-such-folder/hub.db")
    asked = _wanted_by_this_process(monkeypatch)
    with hub.sessions() as session:
        loaded = index_snapshot.load(session)
        assert len(asked) == 1 and len(asked[0]) == len(loaded.arrays)
        _same(loaded.arrays, _truth(session))
