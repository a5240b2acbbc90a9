"""Named crash points for the crash-consistency tests (tests/reliability/test_crash_consistency.py).

``KIM_HUB_CRASH_AT="<point>:<n>"`` makes the process SIGKILL itself the nth time it passes the
named point, so a test can crash a real `kim-hub ingest` inside a phase that random kill times
would rarely hit. Unset (always, outside those tests) a point only reads one environment variable.

    claim     a file was moved into processing/, nothing read yet
    upsert    a file's records, rejections and ledger entry are written, not yet committed
    ledger    a file's transaction is committed; no receipt yet, the file still in processing/
    receipt   the receipt is written; the file not yet moved to archive/ or failed/
    link      the master index is re-clustered, its transaction not yet committed
    push      a summary or notice is in the outbox, its transfer not yet committed

and two of an erasure (tests/test_tombstones.py: `kim-hub erase`, not an ingest):

    tombstone the erasure's tombstone is in the ledger (fsync-ed), its database transaction not yet committed
    erased    the erasure is committed; the copies in files not yet removed, the ledger not yet marked applied
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "KIM_HUB_CRASH_AT"
POINTS = ("claim", "upsert", "ledger", "receipt", "link", "push")  # of an ingest
ERASURE_POINTS = ("tombstone", "erased")
_passes: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here (SIGKILL: no clean-up, no flush) if the environment asks for this pass."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
