"""Map and pseudonymise a delivery's rows in worker processes: the CPU half of ingest.

Mapping a row (pydantic) and encoding its identity (dozens of HMAC tokens, Bloom filters) is
about 80 % of ingest and needs no database, so a big file is cut into chunks that worker
processes (``runtime.parallel.map_in_processes``) turn into records while the parent takes
the chunks already done. The parent stores them in file order, one transaction per file with
its ledger entry, the file moved on only after the commit. Results come back in row order, so
which duplicate wins, which row is rejected and what is stored are what one process gives.
Workers get the keys with each chunk (through a pipe, never on disk) and keep nothing between
chunks but their bounded caches, in memory only: tokens and encoded name parts, and the values
read once per distinct text (code spellings, dates: ``mappings.codelists``, ``mappings.dates``).

By default there are as many workers as the process may use cores, at most four (the parent
storing alone becomes the limit beyond that); ``KIM_HUB_WORKERS`` sets the number, and 1 keeps
everything in-process. On an otherwise idle machine two workers ingest faster than one process;
with other work keeping the cores busy they were slower (the records travel back pickled and
each worker warms its own token caches): there, set it to 1 (figures: benchmarks/README.md).
Small files never go to the pool (starting it would cost more than it saves).
"""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, islice

from kim_hub.core.rows import RawRow, Rejection
from kim_hub.linkage.keyed import EncodingKeys, one_instance
from kim_hub.linkage.pseudonymise import PseudonymisedRecord, pseudonymise_many
from kim_hub.mappings.registry import RowMapper
from kim_hub.runtime.gc_pause import cyclic_gc_paused
from kim_hub.runtime.parallel import map_in_processes, worker_processes

POOL_MIN_ROWS = 5000
CHUNK_ROWS = 2000

Encoded = PseudonymisedRecord | list[Rejection]


def encode_rows(
    source: str,
    rows: Iterable[RawRow],
    mapper: RowMapper,
    keys: EncodingKeys,
    azr_authoritative: bool,
    workers: int | None = None,
) -> Iterator[tuple[list[RawRow], list[Encoded]]]:
    """Per chunk of rows, in row order: the rows, and each row's pseudonymised record or its
    rejections.

    Lazy on both ends: rows are taken only as chunks go out (a streamed file is never held
    whole), and a chunk is yielded as soon as it (and every chunk before it) is done."""
    workers = worker_processes() if workers is None else workers
    row_iterator = iter(rows)
    first = list(islice(row_iterator, POOL_MIN_ROWS))  # enough to tell whether a pool pays
    sent: deque[list[RawRow]] = deque()  # chunks out for encoding; results come back in this order

    def chunks() -> Iterator[list[RawRow]]:
        remaining = chain(first, row_iterator)
        while chunk := list(islice(remaining, CHUNK_ROWS)):
            sent.append(chunk)
            yield chunk

    if len(first) < POOL_MIN_ROWS or workers <= 1:
        in_process = partial(encode_chunk, source, mapper=mapper, keys=keys, azr_authoritative=azr_authoritative)
        for encoded in map(in_process, chunks()):
            yield sent.popleft(), encoded
        return
    in_a_worker = partial(encode_chunk_pickled, source, mapper=mapper, keys=keys, azr_authoritative=azr_authoritative)
    for pickled in map_in_processes(in_a_worker, chunks(), workers):
        yield sent.popleft(), pickle.loads(pickled)  # our own worker's records


def encode_chunk_pickled(
    source: str, rows: Sequence[RawRow], mapper: RowMapper, keys: EncodingKeys, azr_authoritative: bool
) -> bytes:
    """``encode_chunk`` in a worker, its records pickled before the collector resumes.

    The collector is paused while a chunk is made (``runtime.gc_pause``); when it resumed with the
    chunk's summaries and records still alive, its first collection traversed them all, and the
    records pickled after it had it running again: some 7 % of a worker's CPU at a million records.
    Pickled here, every object of the chunk is freed before the pause ends. The chunk's keys are
    an unpickled copy, swapped for this process's first equal ones (``linkage.keyed.one_instance``)."""
    with cyclic_gc_paused():
        # one expression: the records are no one's once pickled, so they are freed inside the pause
        return pickle.dumps(encode_chunk(source, rows, mapper, one_instance(keys), azr_authoritative), pickle.HIGHEST_PROTOCOL)


def encode_chunk(
    source: str, rows: Sequence[RawRow], mapper: RowMapper, keys: EncodingKeys, azr_authoritative: bool
) -> list[Encoded]:
    """One chunk in this process (a worker runs it through ``encode_chunk_pickled``): every row
    mapped, then the summaries pseudonymised together (``pseudonymise_many``: a step at a time is
    faster than a row at a time)."""
    with cyclic_gc_paused():
        mapped = [mapper(source, row) for row in rows]
        records = iter(pseudonymise_many([m for m in mapped if not isinstance(m, list)], keys, azr_authoritative))
        return [m if isinstance(m, list) else next(records) for m in mapped]
