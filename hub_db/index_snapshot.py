"""The index kept in columnar form between link runs, so a run does not re-parse every encoding.

Opening and reading every stored encoding again would cost every link run and every online index
load (a minute per million records when they were JSON; still seconds now that they are binary
and read in bulk, ``linkage.columnar_packed``). The
snapshot keeps the columns of ``linkage.columnar.EncodingArrays`` as raw array bytes in the
database (table ``index_segments``), written inside the link run's own transaction: it commits or
rolls back with the links it describes, on SQLite and PostgreSQL alike, so a crash cannot leave a
snapshot newer than the records.

It is a cache, never the record of truth. Every load checks it row by row against
``source_records`` (id, key id, a digest of the keyed content hash, the link queue): rows of
records that are gone are dropped; rows whose record changed (re-delivered, re-keyed after a key
rotation, queued for linking) or that the snapshot lacks are read from their stored encodings again. A snapshot that
cannot be read (other format, missing or short piece) is ignored and rewritten whole.

The pieces are sealed (``linkage.sealed``) under the current key version, named in each
segment's clear ``_meta`` row with the columns' types and shapes; a piece opens only in its own
place (segment, column, part). A snapshot whose key version is gone (a key rotation destroyed
it) or that does not open is unusable like a damaged one: rebuilt from the records.

Segments: segment 0 holds the whole index; a later run appends only the rows it re-read as the
next segment, and a later segment's row replaces an earlier one's. When the appended rows reach a
fifth of the index, or there are many segments, the whole is rewritten as one segment. Erasure
rewrites it without the erased records (``forget``): no encoding of an erased record outlives it
(SQLite's secure_delete overwrites the freed pages).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from itertools import islice
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.database import make_engine
from kim_hub.hub_db.link_queue import waiting
from kim_hub.hub_db.models import IndexSegment, SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.columnar_packed import from_opened_rows
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.encoding_bytes import pack
from kim_hub.linkage.int_sets import sorted_unique
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.sealed import SealBrokenError, is_sealed
from kim_hub.runtime.memory import return_freed_memory
from kim_hub.runtime.parallel import map_in_processes, worker_processes

FORMAT = 2  # 2: every piece sealed (1, clear pieces, is read as unusable and rewritten)
PIECE_BYTES = 32 * 2**20  # one stored piece of a column: well below SQLite's and PostgreSQL's value limits
IN_CHUNK = 1000
UNOPENED_DIGEST = NONE  # kept for a row whose encoding did not open: no content hash's digest (``digest``)
PARSE_CHUNK = 20_000  # stored encodings opened and read into columns at once
log = logging.getLogger(__name__)
REWRITE_SHARE = 0.2
MAX_SEGMENTS = 12
_COLUMNS = [f.name for f in fields(EncodingArrays) if f.name != "body"]  # the body comes from the records' rows


Segment = tuple[EncodingArrays, np.ndarray]  # one stored segment: its arrays and each row's digest


class SnapshotUnusableError(Exception):
    """The stored snapshot cannot be read as this version writes it: rebuild it."""


@dataclass
class LoadedIndex:
    """The index as columns, and what the next ``save`` needs to keep the snapshot current."""

    arrays: EncodingArrays
    digests: np.ndarray  # int64 per row: digest of the record's content hash when it was read
    reread: np.ndarray  # bool per row: read from its stored encoding this time (not from the snapshot)
    segments: int  # segments the snapshot had (0: none usable)
    # ids of the records whose sealed encoding did not open (a row moved or damaged): in the index
    # without identity, so nothing links to them, and tried again by the next load
    unopened: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def load(session: Session, queued: set[int] | None = None) -> LoadedIndex:
    """Every stored encoding as columns: the snapshot's rows that are still current, the rest from the records.

    ``queued``: the link queue, when the caller has just read it (else it is read here)."""
    current = (  # through the connection: the ORM's row handling doubles a million rows' reading
        session.connection()
        .execute(
            select(SourceRecord.id, SourceRecord.key_id, SourceRecord.content_hash, SourceRecord.source).order_by(SourceRecord.id)
        )
        .all()
    )
    n = len(current)
    ids = np.fromiter((r[0] for r in current), dtype=np.int64, count=n)
    key_ids = np.array([r[1] for r in current], dtype=object)
    digests = np.fromiter((digest(r[2]) for r in current), dtype=np.int64, count=n)
    bodies = body_codes([r[3] for r in current])
    queued = waiting(session) if queued is None else queued
    pending = np.isin(ids, np.fromiter(queued, dtype=np.int64, count=len(queued)))
    del current
    try:
        parts = _read_segments(session)
    except SnapshotUnusableError:
        parts = []

    def read_as_here(part: Segment, rows: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Which of the part's rows are the records as this transaction reads them."""
        same: np.ndarray = (part[1][rows] == digests[pos]) & (part[0].key_id[rows] == key_ids[pos])
        return same

    winners, usable = _winners(parts, ids, lambda part, rows, pos: read_as_here(part, rows, pos) & ~pending[pos])
    sources = [(part[0], rows, pos) for part, rows, pos in winners]
    segments = len(parts)
    del parts, winners  # the segments' columns are released one by one while assembling
    stale = ids[~usable]
    workers = worker_processes() if len(stale) >= 2 * PARSE_CHUNK else 1  # a first run parses everything
    unopened: list[int] = []
    here = stale  # the rows this process reads
    database = _file_database(session)
    if workers > 1 and database is not None:  # the workers read the rows themselves
        read_there, read, unopened = _read_by_workers(session, database, ids, key_ids[~usable], ~usable, read_as_here, workers)
        sources += read_there
        here = ids[~usable & ~read]  # changed by another process meanwhile: read in this transaction
    stored = _stored_rows(session, here, n)
    chunks = iter(lambda: _with_keys(session, list(islice(stored, PARSE_CHUNK))), ([], {}))
    for fresh, broken in map_in_processes(_open_and_parse, chunks, workers if len(here) >= 2 * PARSE_CHUNK else 1):
        sources.append((fresh, np.arange(len(fresh)), np.searchsorted(ids, fresh.ids)))
        unopened += broken
    arrays = _assemble(ids, sources)
    arrays.body = bodies
    if len(stale) >= PARSE_CHUNK:
        return_freed_memory()  # the parsed chunks' heap, kept by the allocator otherwise (runtime.memory)
    set_aside = np.array(sorted(unopened), dtype=np.int64)
    digests[np.searchsorted(ids, set_aside)] = UNOPENED_DIGEST  # never current in the snapshot: read again
    return LoadedIndex(arrays, digests, ~usable, segments, set_aside)


def load_records(session: Session, record_pks: np.ndarray) -> EncodingArrays:
    """Just these records' encodings as columns, opened from what is stored (the snapshot is not
    read): for a question about a few records, where loading the whole index would cost seconds
    and gigabytes at a million. A sealed encoding that does not open counts as one without identity,
    as in ``load``."""
    wanted = sorted_unique(record_pks)
    rows = list(_stored_rows(session, wanted, total=4 * len(wanted) + 4))  # by IN lists: few rows
    arrays, _unopened = _open_and_parse(_with_keys(session, rows))
    return arrays


def body_numbers(sources: Iterable[str]) -> dict[str, int]:
    """Each source's body number: its position among the sorted source names."""
    return {name: code for code, name in enumerate(sorted(set(sources)))}


def body_codes(sources: list[str]) -> np.ndarray:
    """Per record, its source's body number."""
    position = body_numbers(sources)
    return np.fromiter((position[name] for name in sources), dtype=np.int16, count=len(sources))


def save(session: Session, loaded: LoadedIndex) -> None:
    """Bring the stored snapshot up to ``loaded`` (the caller commits it with the link run)."""
    n = len(loaded.arrays)
    appended = int(loaded.reread.sum())
    if loaded.segments and appended == 0:
        return
    if loaded.segments == 0 or loaded.segments >= MAX_SEGMENTS or appended >= REWRITE_SHARE * max(n, 1):
        session.execute(delete(IndexSegment))
        _write_segment(session, 0, loaded.arrays, loaded.digests)
        return
    last = session.execute(select(IndexSegment.segment).order_by(IndexSegment.segment.desc()).limit(1)).scalar_one()
    rows = np.flatnonzero(loaded.reread)
    _write_segment(session, last + 1, loaded.arrays.take(rows), loaded.digests[rows])


def stored_rows_equal(session: Session, arrays: EncodingArrays, record_pks: set[int]) -> bool:
    """Do these records read from their stored encodings exactly as their rows of ``arrays`` (each
    present there)? What ``load`` would read again for queued records, checked against a kept index."""
    if not record_pks:
        return True
    wanted = np.array(sorted(record_pks), dtype=np.int64)
    positions = np.searchsorted(arrays.ids, wanted)
    if (positions >= len(arrays.ids)).any() or (arrays.ids[positions] != wanted).any():
        return False
    fresh, unopened = _open_and_parse(_with_keys(session, list(_stored_rows(session, wanted, len(arrays.ids) + len(wanted) * 4))))
    if unopened or len(fresh) != len(wanted) or (fresh.ids != wanted).any():
        return False
    for name in _COLUMNS:
        kept, read = getattr(arrays, name)[positions], getattr(fresh, name)
        if read.ndim > 1:
            if any(r > k for r, k in zip(read.shape[1:], kept.shape[1:])):
                return False  # wider than the index holds: a load would widen the columns
            fill = 0 if read.dtype in (np.uint64, np.int32) else NONE
            padded = np.full(kept.shape, fill, dtype=kept.dtype)
            padded[(slice(None), *(slice(0, s) for s in read.shape[1:]))] = read
            read = padded
        if kept.dtype != read.dtype or not np.array_equal(kept, read):
            return False
    return True


def drop(session: Session) -> None:
    """Remove the whole snapshot (a key rotation: it is sealed with the key being destroyed)."""
    session.execute(delete(IndexSegment))


def forget(session: Session, record_pks: list[int]) -> None:
    """Rewrite the snapshot without these records (erasure), or drop it when it cannot be read."""
    if session.execute(select(IndexSegment.id).limit(1)).first() is None:
        return
    try:
        parts = _read_segments(session)
    except SnapshotUnusableError:
        parts = []
    session.execute(delete(IndexSegment))
    if not parts:
        return
    every = sorted_unique(np.concatenate([part[0].ids for part in parts]))
    keep = every[~np.isin(every, np.asarray(record_pks, dtype=np.int64))]
    winners, _ = _winners(parts, keep, lambda part, rows, pos: np.ones(len(rows), dtype=bool))
    stored_digest = np.zeros(len(keep), dtype=np.int64)
    for part, rows, pos in winners:
        stored_digest[pos] = part[1][rows]
    sources = [(part[0], rows, pos) for part, rows, pos in winners]
    del winners
    _write_segment(session, 0, _assemble(keep, sources), stored_digest)


def digest(content_hash: str) -> int:
    """The record's content hash (a keyed token in hex) as one int64 to compare rows by."""
    try:
        return int(content_hash[-15:], 16)
    except ValueError:
        return NONE  # never equal to a stored digest of a hex hash: the row is re-read


def _winners(
    parts: list[Segment], ids: np.ndarray, valid: Callable[[Segment, np.ndarray, np.ndarray], np.ndarray]
) -> tuple[list[tuple[Segment, np.ndarray, np.ndarray]], np.ndarray]:
    """For each id, the last segment holding it, if ``valid`` says that row may be used.

    Returns the sources (segment, its rows, their positions in ``ids``) and a bool per id.
    """
    winner = np.full(len(ids), -1, dtype=np.int64)
    row_of = np.zeros(len(ids), dtype=np.int64)
    for s, (arrays, _digests) in enumerate(parts):
        pos = np.searchsorted(ids, arrays.ids)
        inside = pos < len(ids)
        inside[inside] = ids[pos[inside]] == arrays.ids[inside]
        winner[pos[inside]] = s
        row_of[pos[inside]] = np.flatnonzero(inside)
    usable = np.zeros(len(ids), dtype=bool)
    sources: list[tuple[Segment, np.ndarray, np.ndarray]] = []
    for s, part in enumerate(parts):
        pos = np.flatnonzero(winner == s)
        rows = row_of[pos]
        ok = valid(part, rows, pos)
        usable[pos[ok]] = True
        sources.append((part, rows[ok], pos[ok]))
    return sources, usable


def _assemble(ids: np.ndarray, sources: list[tuple[EncodingArrays, np.ndarray, np.ndarray]]) -> EncodingArrays:
    """One array set for ``ids`` filled column by column from (arrays, rows, positions) sources;
    each source column is released once copied, so the peak is the result plus one column."""
    if not sources:
        sources = [(from_opened_rows([]), np.empty(0, np.int64), np.empty(0, np.int64))]
    out: dict[str, np.ndarray] = {}
    # a first run's parsed chunks are whole and fill one run of positions each: copied as blocks
    spans = [(_as_span(rows), _as_span(pos)) for _arrays, rows, pos in sources]
    for name in _COLUMNS:
        columns = [getattr(arrays, name) for arrays, _rows, _pos in sources]
        first = columns[0]
        shape = tuple(max(c.shape[d] for c in columns) for d in range(1, first.ndim))
        if first.ndim > 1:
            fill = 0 if first.dtype in (np.uint64, np.int32) else NONE
            column = np.full((len(ids), *shape), fill, dtype=first.dtype)
        else:
            column = np.empty(len(ids), dtype=first.dtype)
        for (arrays, _rows, _pos), (rows, pos), source in zip(sources, spans, columns):
            cells: tuple[np.ndarray | slice, ...] = (pos, *(slice(0, s) for s in source.shape[1:]))
            column[cells] = source[rows]
            setattr(arrays, name, None)
        del columns, first
        out[name] = column
    out["ids"] = ids.copy()
    out["body"] = np.full(len(ids), NONE, dtype=np.int16)
    return EncodingArrays(**out)


def _as_span(positions: np.ndarray) -> np.ndarray | slice:
    """``positions`` as a slice when they are one ascending run (a view to copy, not a gather)."""
    count = len(positions)
    if count == 0 or positions[-1] - positions[0] != count - 1 or not bool((positions[1:] > positions[:-1]).all()):
        return positions
    return slice(int(positions[0]), int(positions[0]) + count)


_STORED = (SourceRecord.id, SourceRecord.encoding, SourceRecord.key_id, SourceRecord.source, SourceRecord.content_hash)
StoredRow = tuple[int, str, str, str, str]  # id, stored encoding, key id, source, content hash
Chunk = tuple[list[StoredRow], dict[str, EncodingKeys]]  # rows and the key versions that open them


def _stored_rows(session: Session, wanted: np.ndarray, total: int) -> Iterator[StoredRow]:
    """The wanted records' stored encodings (sealed, or clear from before sealing) with what
    opens them: by IN lists when few, one scan when many."""
    if len(wanted) == 0:
        return iter(())
    if len(wanted) > total // 4:
        keep = set(wanted.tolist())
        scan = session.connection().execute(select(*_STORED), execution_options={"yield_per": PARSE_CHUNK})
        return (  # streamed (buffering every row would hold every encoding), past the ORM's row handling
            (pk, stored, key_id, source, content_hash) for pk, stored, key_id, source, content_hash in scan if pk in keep
        )
    rows: list[StoredRow] = []
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK].tolist()
        found = session.execute(select(*_STORED).where(SourceRecord.id.in_(chunk)))
        rows += [(pk, stored, key_id, source, content_hash) for pk, stored, key_id, source, content_hash in found]
    return iter(rows)


def _with_keys(session: Session, rows: list[StoredRow]) -> Chunk:
    """A chunk of rows with the key versions its sealed encodings need (from the session's key ring)."""
    needed = {key_id for _id, stored, key_id, _source, _hash in rows if is_sealed(stored)}
    return rows, {key_id: keyring_of(session).keys(key_id) for key_id in needed}


def _file_database(session: Session) -> str | None:
    """The URL of the SQLite file the session reads, which worker processes can open as well
    (None for another database: its rows go through this process)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _read_by_workers(
    session: Session,
    database: str,
    ids: np.ndarray,
    key_ids: np.ndarray,
    wanted: np.ndarray,
    read_as_here: Callable[[Segment, np.ndarray, np.ndarray], np.ndarray],
    workers: int,
) -> tuple[list[tuple[EncodingArrays, np.ndarray, np.ndarray]], np.ndarray, list[int]]:
    """The ``wanted`` rows read, opened and parsed by the worker processes, range by range (a
    first run's million rows never pass through this process), kept as the snapshot's segments
    are kept (``_winners``) where they are ``read_as_here``: as this transaction reads them.
    Returns the sources, which ids they hold (the rest, changed by another process meanwhile, is
    this process's to read), and those of the rows whose sealed encoding did not open. Workers
    are told every key version the wanted rows have (``key_ids``) with each range."""
    ring = keyring_of(session)
    keys = {key_id: ring.keys(key_id) for key_id in set(key_ids.tolist())}
    stale = ids[wanted]
    ranges = [
        (database, int(stale[start]), int(stale[min(start + PARSE_CHUNK, len(stale)) - 1]), keys)
        for start in range(0, len(stale), PARSE_CHUNK)
    ]
    parts: list[Segment] = []
    broken: list[int] = []
    try:
        for arrays, digests, unopened in map_in_processes(_read_open_and_parse, ranges, workers):
            parts.append((arrays, digests))
            broken += unopened
    except (SQLAlchemyError, OSError) as error:  # the file not readable from another connection: the rest read here
        log.warning(
            "index load: the workers could not read the database file (%s); reading it in this process", type(error).__name__
        )
    winners, read = _winners(parts, ids, lambda part, rows, pos: read_as_here(part, rows, pos) & wanted[pos])
    kept = set(ids[read].tolist())
    return [(part[0], rows, pos) for part, rows, pos in winners], read, [pk for pk in broken if pk in kept]


def _read_open_and_parse(task: tuple[str, int, int, dict[str, EncodingKeys]]) -> tuple[EncodingArrays, np.ndarray, list[int]]:
    """In a worker: the records with ids from ``first`` to ``last`` read from the database file
    (committed rows, through a connection of its own, closed after), opened and read into
    columns, with each row's content digest (a segment, as the snapshot stores them) and the ids
    of the rows whose encoding did not open. A row of a key version the caller did not send is
    new to it: left out."""
    database, first, last, keys = task
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(*_STORED).where(SourceRecord.id.between(first, last)).order_by(SourceRecord.id))
            rows: list[StoredRow] = [
                (pk, stored, key_id, source, content_hash)
                for pk, stored, key_id, source, content_hash in found
                if key_id in keys or not is_sealed(stored)
            ]
    finally:
        engine.dispose()
    arrays, unopened = _open_and_parse((rows, keys))
    # the arrays are in id order, as the rows are read
    digests = np.fromiter((digest(content_hash) for *_row, content_hash in rows), dtype=np.int64, count=len(rows))
    return arrays, digests, unopened


def _open_and_parse(chunk: Chunk) -> tuple[EncodingArrays, list[int]]:
    """A chunk's encodings opened in memory and read into columns (in a worker process on a first
    run), and the ids of the rows whose sealed encoding did not open with its key version: each is
    read as an encoding without identity (nothing links to it) and the link run says how many were
    set aside. A row moved or damaged at rest stops nobody else's linking."""
    rows, keys = chunk
    unopened: list[int] = []

    def opened(pk: int, stored: str, key_id: str, source: str, content_hash: str) -> bytes | str:
        if not is_sealed(stored):
            return stored
        try:
            return keys[key_id].open_encoding(stored, source, content_hash)
        except SealBrokenError:
            unopened.append(pk)
            return _without_identity(key_id)

    arrays = from_opened_rows((pk, opened(pk, *rest)) for pk, *rest in rows)
    return arrays, unopened


def _without_identity(key_id: str) -> bytes:
    """The encoding of a record the index knows nothing of: no name, date, place or identifier."""
    return pack(RecordEncoding(key_id, (), None, None, (), None, None, None, None, (), None))


def _read_segments(session: Session) -> list[Segment]:
    """Every stored segment as (arrays, digests), in order; SnapshotUnusableError when any is damaged."""
    metas = session.execute(
        select(IndexSegment.segment, IndexSegment.data).where(IndexSegment.field == "_meta").order_by(IndexSegment.segment)
    ).all()
    parts = []
    for segment, raw in metas:
        meta = json.loads(bytes(raw))
        if meta.get("format") != FORMAT or set(meta["columns"]) != {*_COLUMNS, "_digest"}:
            raise SnapshotUnusableError(f"segment {segment}: other format")
        try:
            keys = keyring_of(session).keys(str(meta["sealed_with"]))
        except (ConfigError, FatalError):
            raise SnapshotUnusableError(f"segment {segment}: its key version is not at hand") from None
        columns = {name: _read_column(session, segment, name, *spec, keys=keys) for name, spec in meta["columns"].items()}
        if any(len(c) != meta["rows"] for c in columns.values()):
            raise SnapshotUnusableError(f"segment {segment}: columns of different lengths")
        columns["key_id"] = columns["key_id"].astype(object)
        columns["body"] = np.full(meta["rows"], NONE, dtype=np.int16)
        digests = columns.pop("_digest")
        arrays = EncodingArrays(**columns)
        if len(arrays.ids) > 1 and not (np.diff(arrays.ids) > 0).all():
            raise SnapshotUnusableError(f"segment {segment}: ids not ascending")
        parts.append((arrays, digests))
    return parts


def _read_column(session: Session, segment: int, name: str, dtype: str, shape: list[int], *, keys: EncodingKeys) -> np.ndarray:
    query = select(IndexSegment.part, IndexSegment.data)
    query = query.where(IndexSegment.segment == segment, IndexSegment.field == name).order_by(IndexSegment.part)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buffer = bytearray(size)
    offset = 0
    for part, stored in session.execute(query):
        try:
            piece = keys.open_piece(bytes(stored), _place(segment, name, part))
        except SealBrokenError:
            raise SnapshotUnusableError(f"{name}: a piece does not open") from None
        if offset + len(piece) > size:
            raise SnapshotUnusableError(f"{name}: longer than recorded")
        buffer[offset : offset + len(piece)] = piece
        offset += len(piece)
    if offset != size:
        raise SnapshotUnusableError(f"{name}: {offset} of {size} bytes")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def _place(segment: int, name: str, part: int) -> bytes:
    """Where a sealed piece belongs: it opens nowhere else."""
    return f"index-segment\x00{segment}\x00{name}\x00{part}".encode()


def _write_segment(session: Session, segment: int, arrays: EncodingArrays, digests: np.ndarray) -> None:
    keys = keyring_of(session).current()
    columns = {name: getattr(arrays, name) for name in _COLUMNS}
    columns["key_id"] = np.asarray(arrays.key_id.astype(str))
    columns["_digest"] = np.ascontiguousarray(digests, dtype=np.int64)
    meta: dict[str, Any] = {"format": FORMAT, "rows": len(arrays), "sealed_with": keys.key_id, "columns": {}}
    for name, values in columns.items():
        column = np.ascontiguousarray(values)
        meta["columns"][name] = [column.dtype.str, list(column.shape)]
        raw = column.reshape(-1).view(np.uint8)
        for part, start in enumerate(range(0, max(len(raw), 1), PIECE_BYTES)):  # one piece at a time
            piece = keys.seal_piece(raw[start : start + PIECE_BYTES].tobytes(), _place(segment, name, part))
            session.execute(insert(IndexSegment), [{"segment": segment, "field": name, "part": part, "data": piece}])
    session.execute(insert(IndexSegment), [{"segment": segment, "field": "_meta", "part": 0, "data": json.dumps(meta).encode()}])
