"""The erasure ledger: tombstones of erased records, kept apart from the database (SDM module 60).

A restored backup holds the records erased since it was taken; the ledger is how the hub knows to
erase them again. It is a file (``var/erasures.ledger``, hub.toml ``erasure_ledger``) of JSON
lines, append-only, mode 0600, one tombstone per erasure and source:

    {"at": "2026-12-06T10:11:12Z", "chain": "<64 hex>", "counts": {"persons": 1, "records": 1, …},
     "records": ["<32 hex>", …], "rule": "erasure request", "seq": 7, "source": "caritas"}

* ``records`` are keyed digests of (source, record id): HMAC-SHA-256 under a key derived from the
  ledger's own key file (keys/erasure.key), cut to 128 bits. Never the record id, never content:
  whoever holds the ledger without the key learns how many records were erased, when and by
  which rule, nothing of whom. With the key, a record id named in an erasure request can be
  checked against it (`kim-hub erasures --source S --record-id R`), and a restored database is
  matched against it.
* ``seq`` numbers the tombstones. The database keeps the last one it applied (``erasure_state``),
  so "the database is older than the ledger" is one comparison of two numbers.
* ``chain`` is an HMAC over the previous entry's chain and this entry: an entry changed, removed,
  inserted or moved breaks the chain from there on (``verify``, `kim-hub erasures --verify`).

Why a crash cannot lose an erasure: the caller erases inside its database transaction, appends
the tombstone (one ``write``, fsync-ed before ``append`` returns), commits, clears the copies in
files, and only then marks the sequence as applied in the database. A crash before the append
leaves nothing done (the transaction rolls back; the command failed). A crash after it leaves the
ledger ahead of the database, and the next command applies the tombstone again before anything
else. A line cut short by a crash during the append belongs to a transaction that never
committed: readers ignore it, and the next append cuts it off.

Appends, and the re-application of tombstones, happen under the ledger's lock (``flock`` on the
file, released by the kernel when a process dies): sequence numbers stay unique, and a
re-application never runs beside an erasure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hmac
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from kim_hub.core.errors import FatalError
from kim_hub.linkage.keyed import derive_key
from kim_hub.runtime.durability import sync_folder

RULE_REQUEST = "erasure request"  # `kim-hub erase`
RULE_RETENTION = "retention period over"  # `kim-hub retention`: a closed case past its source's period
RULE_STATUTE = "statutory purge"  # records held only for linkage, past their period (issue 20, item 2)
RULE_LOST = "ledger entries lost"  # `kim-hub erasures --acknowledge-loss`: sequences the ledger lost
RULES = (RULE_REQUEST, RULE_RETENTION, RULE_STATUTE, RULE_LOST)

GENESIS = "0" * 64
DIGEST_BYTES = 16
_KEY_VERSION = "ledger-1"
_TAIL_CHUNK = 64 * 1024
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class LedgerDamagedError(FatalError):
    """The ledger cannot be read as written, or its chain is broken: erasures it holds could not
    be applied again, so the hub stops rather than run on a database that may hold them."""


@dataclass(frozen=True)
class Tombstone:
    """One erasure of records of one source: keyed digests and counts, no id, no content."""

    seq: int
    at: str
    rule: str
    source: str
    records: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    lost: tuple[int, int] | None = None  # RULE_LOST: the first and last sequence the ledger lost
    chain: str = ""

    def body(self) -> dict[str, Any]:
        """The entry as sealed by the chain (everything but the chain itself)."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "at": self.at,
            "rule": self.rule,
            "source": self.source,
            "records": list(self.records),
            "counts": dict(self.counts),
        }
        if self.lost is not None:
            data["lost"] = list(self.lost)
        return data

    @classmethod
    def parse(cls, line: bytes, number: int) -> Tombstone:
        """A ledger line; anything else is damage, named by its line number (never its text)."""
        try:
            data = json.loads(line)
            lost = data.get("lost")
            tombstone = cls(
                seq=data["seq"],
                at=data["at"],
                rule=data["rule"],
                source=data["source"],
                records=tuple(data["records"]),
                counts=dict(data["counts"]),
                lost=(int(lost[0]), int(lost[1])) if lost is not None else None,
                chain=data["chain"],
            )
        except (ValueError, KeyError, TypeError, IndexError):
            raise LedgerDamagedError(f"erasure ledger: line {number} is not a tombstone") from None
        if not (
            isinstance(tombstone.seq, int)
            and all(isinstance(v, str) for v in (tombstone.at, tombstone.rule, tombstone.source, tombstone.chain))
            and all(isinstance(d, str) for d in tombstone.records)
            and all(isinstance(c, int) for c in tombstone.counts.values())
        ):
            raise LedgerDamagedError(f"erasure ledger: line {number} is not a tombstone")
        return tombstone


@dataclass(frozen=True)
class LedgerCheck:
    """What ``verify`` found: how many entries, and the first broken one (None: the chain holds)."""

    entries: int
    broken_at: int | None = None  # the line number of the first entry that does not fit
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


class ErasureLedger:
    """The home's ledger file. The key is read only when a digest or the chain is needed (the
    check every command makes, ``last_sequence``, needs neither)."""

    def __init__(self, path: Path, key_loader: Callable[[], bytes]) -> None:
        self.path = path
        self._key_loader = key_loader
        self._locked: int | None = None

    # --- keys -------------------------------------------------------------------------------------

    @cached_property
    def _keys(self) -> tuple[bytes, bytes]:
        master = self._key_loader()
        return derive_key(master, _KEY_VERSION, "erasure-digest"), derive_key(master, _KEY_VERSION, "erasure-chain")

    def digest(self, source: str, record_id: str) -> str:
        """The keyed digest a tombstone names a record by (source and id joined by a unit separator)."""
        return hmac.digest(self._keys[0], f"{source}\x1f{record_id}".encode(), "sha256")[:DIGEST_BYTES].hex()

    def _seal(self, previous: str, tombstone: Tombstone) -> str:
        canonical = json.dumps(tombstone.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hmac.new(self._keys[1], (previous + canonical).encode(), "sha256").hexdigest()

    # --- reading ----------------------------------------------------------------------------------

    def last_sequence(self) -> int:
        """The sequence of the last complete entry (0: no ledger yet, or an empty one). Reads only
        the file's tail, so every command can afford it."""
        line = _last_line(self.path)
        return 0 if line is None else Tombstone.parse(line, 0).seq

    def entries(self) -> list[Tombstone]:
        """Every complete entry, in order (a line cut short at the end is not one)."""
        return [Tombstone.parse(line, number) for number, line in enumerate(_complete_lines(self.path), start=1)]

    def verify(self) -> LedgerCheck:
        """Recompute the chain: the first entry that is damaged, out of sequence or not sealed by
        its predecessor is named by its line number."""
        previous, sequence, count = GENESIS, 0, 0
        for number, line in enumerate(_complete_lines(self.path), start=1):
            try:
                tombstone = Tombstone.parse(line, number)
            except LedgerDamagedError:
                return LedgerCheck(count, number, "not a tombstone")
            lost = tombstone.lost if tombstone.rule == RULE_LOST else None
            in_sequence = tombstone.seq == sequence + 1 if lost is None else lost == (sequence + 1, tombstone.seq)
            if not in_sequence:
                return LedgerCheck(count, number, "out of sequence")
            if not hmac.compare_digest(tombstone.chain, self._seal(previous, tombstone)):
                return LedgerCheck(count, number, "chain broken (changed, removed or moved entry)")
            previous, sequence, count = tombstone.chain, tombstone.seq, count + 1
        return LedgerCheck(count)

    def pending(self, applied: int) -> list[Tombstone]:
        """The entries after ``applied``, once the whole chain is verified (LedgerDamagedError if not)."""
        check = self.verify()
        if not check.ok:
            raise LedgerDamagedError(
                f"erasure ledger {self.path}: entry on line {check.broken_at}: {check.problem}; "
                "see `kim-hub erasures --verify` and docs/operations.md"
            )
        return [t for t in self.entries() if t.seq > applied]

    def find(self, source: str, record_id: str) -> list[Tombstone]:
        """The tombstones naming this record (a deletion proven without the data)."""
        digest = self.digest(source, record_id)
        return [t for t in self.entries() if t.source == source and digest in t.records]

    # --- writing ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[ErasureLedger]:
        """Hold the ledger's lock (waiting for another holder); the file is created 0600 if missing.
        Re-entrant within one holder: an erasure inside a locked block does not wait for itself."""
        if self._locked is not None:
            yield self
            return
        descriptor = _open_for_append(self.path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._locked = descriptor
            yield self
        finally:
            self._locked = None
            os.close(descriptor)  # releases the lock

    def append(
        self, rule: str, source: str, digests: Iterable[str], counts: Mapping[str, int], lost: tuple[int, int] | None = None
    ) -> Tombstone:
        """Write one tombstone and fsync it before returning (the caller holds ``locked``)."""
        if self._locked is None:
            raise RuntimeError("ErasureLedger.append needs the ledger's lock (use `with ledger.locked():`)")
        if rule not in RULES:
            raise ValueError(f"unknown erasure rule {rule!r}")
        descriptor = self._locked
        _cut_torn_tail(descriptor)
        last = _last_line(self.path)
        previous = Tombstone.parse(last, 0) if last is not None else None
        sequence = (previous.seq if previous else 0) + 1
        if lost is not None:
            if lost[0] != sequence or lost[1] < lost[0]:
                raise ValueError("a loss covers the sequences right after the ledger's last entry")
            sequence = lost[1]
        tombstone = Tombstone(
            seq=sequence,
            at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            rule=rule,
            source=source,
            records=tuple(sorted(set(digests))),
            counts=dict(counts),
            lost=lost,
        )
        sealed = replace(tombstone, chain=self._seal(previous.chain if previous else GENESIS, tombstone))
        line = (json.dumps({**sealed.body(), "chain": sealed.chain}, sort_keys=True, separators=(",", ":")) + "\n").encode()
        view = memoryview(line)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
        return sealed


def _open_for_append(path: Path) -> int:
    """The ledger opened for appending: created 0600 (its folder made if missing), never through a
    link, and only a regular file of the running user's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not os.path.lexists(path)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FatalError(f"erasure ledger {path} is a symbolic link; refusing to write through it") from None
        raise
    found = os.fstat(descriptor)
    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
        os.close(descriptor)
        raise FatalError(f"erasure ledger {path} is not a regular file of the user running the hub; refusing to use it")
    if created:
        sync_folder(path.parent)
    return descriptor


def _open_for_reading(path: Path) -> int | None:
    try:
        return os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FatalError(f"erasure ledger {path} is a symbolic link; refusing to read through it") from None
        raise


def _complete_lines(path: Path) -> list[bytes]:
    """The ledger's complete lines (a last line without its newline was never committed)."""
    descriptor = _open_for_reading(path)
    if descriptor is None:
        return []
    with open(descriptor, "rb") as handle:
        data = handle.read()
    return data[: data.rfind(b"\n") + 1].splitlines()


def _last_line(path: Path) -> bytes | None:
    """The last complete line, read backwards from the end in chunks."""
    descriptor = _open_for_reading(path)
    if descriptor is None:
        return None
    try:
        position = os.fstat(descriptor).st_size
        buffer = b""
        while position > 0:
            step = min(_TAIL_CHUNK, position)
            position -= step
            buffer = os.pread(descriptor, step, position) + buffer
            complete = buffer[: buffer.rfind(b"\n") + 1]
            if complete.count(b"\n") >= 2:
                break
    finally:
        os.close(descriptor)
    complete = buffer[: buffer.rfind(b"\n") + 1].rstrip(b"\n")
    return complete[complete.rfind(b"\n") + 1 :] if complete else None


def _cut_torn_tail(descriptor: int) -> None:
    """Cut off a last line a crash left without its newline (its transaction never committed)."""
    size = os.fstat(descriptor).st_size
    end = size
    while end > 0:
        step = min(_TAIL_CHUNK, end)
        chunk = os.pread(descriptor, step, end - step)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = end - step + newline + 1
            break
        end -= step
    if end != size:
        os.ftruncate(descriptor, end)
        os.fsync(descriptor)
