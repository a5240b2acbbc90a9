"""Map and pseudonymise a delivery's rows in worker processes: the CPU half of ingest.

Mapping a row (pydantic) and encoding its identity (dozens of HMAC tokens, Bloom filters) is
about 80 % of ingest and needs no database, so a big file is cut into chunks that worker
processes turn into records while the parent stores the chunks already done: in file order,
one transaction per file with its ledger entry, the file moved on only after the commit.
Results come back in row order, so which duplicate wins, which row is
rejected and what is stored are what one process gives. Workers get the keys with each chunk
(through a pipe, never on disk) and keep nothing between chunks but their token caches.

By default there are as many workers as the process may use cores, at most four (the parent
storing alone becomes the limit beyond that); ``KIM_HUB_INGEST_WORKERS`` sets the number, and 1
keeps everything in-process. On the 2-core machine, otherwise idle, two workers ingest 100,000
generated persons (216,979 rows) in 51.5 s against 78.4 s in one process. With other work
keeping both cores busy they were slower than one (98,737 rows: 37.5 s against 29.2 s; the
records travel back pickled and each worker warms its own token caches): there, set it to 1.
The pool starts once per process on first use and is
reused; it uses ``forkserver`` (a worker forked from a Prefect process would inherit its
threads' locks), so the program that starts it needs the usual ``if __name__ == "__main__"``
guard. Small files never go to the pool (starting it would cost more than it saves).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat

from connectors.base import RawRow, Rejection
from linkage.keyed import EncodingKeys
from linkage.parallel import usable_cores
from linkage.pseudonymise import PseudonymisedRecord, pseudonymise

POOL_MIN_ROWS = 5000
CHUNK_ROWS = 2000
DEFAULT_MAX_WORKERS = 4

Encoded = PseudonymisedRecord | list[Rejection]
_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def workers_wanted() -> int:
    """Worker processes for ingest: ``KIM_HUB_INGEST_WORKERS``, else the usable cores up to
    ``DEFAULT_MAX_WORKERS`` (1: no pool)."""
    configured = os.environ.get("KIM_HUB_INGEST_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, min(usable_cores(), DEFAULT_MAX_WORKERS))


def encode_rows(
    source: str,
    rows: Sequence[RawRow],
    mapper: Callable,
    keys: EncodingKeys,
    azr_authoritative: bool,
    workers: int | None = None,
) -> Iterator[list[Encoded]]:
    """Per chunk of rows, in row order: each row's pseudonymised record, or its rejections.

    Lazy: a chunk is yielded as soon as it (and every chunk before it) is done, so the caller
    stores it while the workers go on with the next ones."""
    workers = workers_wanted() if workers is None else workers
    chunks = [rows[start : start + CHUNK_ROWS] for start in range(0, len(rows), CHUNK_ROWS)]
    if workers <= 1 or len(rows) < POOL_MIN_ROWS:
        for chunk in chunks:
            yield encode_chunk(source, chunk, mapper, keys, azr_authoritative)
        return
    done = 0
    try:
        for part in _get_pool(workers).map(encode_chunk, repeat(source), chunks, repeat(mapper), repeat(keys), repeat(azr_authoritative)):
            yield part
            done += 1
    except BrokenProcessPool:  # a worker died (killed, out of memory): the rest in-process
        _reset_pool()
        for chunk in chunks[done:]:
            yield encode_chunk(source, chunk, mapper, keys, azr_authoritative)


def encode_chunk(source: str, rows: Sequence[RawRow], mapper: Callable, keys: EncodingKeys, azr_authoritative: bool) -> list[Encoded]:
    """One chunk in this process (what each worker runs)."""
    out: list[Encoded] = []
    for row in rows:
        mapped = mapper(source, row)
        out.append(mapped if isinstance(mapped, list) else pseudonymise(mapped, keys, azr_authoritative))
    return out


def _get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != workers:
        _reset_pool()
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            context.set_forkserver_preload([__name__])
        _pool, _pool_size = ProcessPoolExecutor(max_workers=workers, mp_context=context), workers
    return _pool


def _reset_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None
