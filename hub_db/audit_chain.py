"""The audit log's seal: canonical entries, a keyed hash chain per channel, and its verification.

Pure functions over plain data (no database), so the rules that make the log tamper-evident can
be read and tested on their own; ``hub_db.audit_log`` stores what they compute.

Each channel (``CHANNELS``) is a chain of its own: entry *n*'s ``mac`` is

    HMAC-SHA256(chain key, mac of entry n-1 + "\\n" + canonical content of entry n)

where the canonical content is the entry's every recorded field (channel, sequence number, time,
actor, action, objects, purpose, case reference, detail) as sorted, compact JSON. Entry 1 chains
to the channel's genesis value. Changing any field of an entry, deleting one or moving one breaks
the chain at that entry; whoever lacks the key cannot compute a chain that holds again. A plain
SHA-256 chain would not do: whoever can edit the table can also recompute every hash after the
edit. The key lives outside the database (``keys/audit.key``, ``hub_db.keystore``).

Retention removes the oldest entries of a channel. Before it does, it writes a *checkpoint*: the
sequence number and mac of the last entry removed, itself sealed with the key, so the first entry
left still verifies against it. Deleting entries without a checkpoint the key sealed shows.

An *anchor* (the last sequence number and mac the hub wrote per channel, sealed too, kept outside
the database) shows entries deleted from the end of a channel, which the chain alone cannot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("read", "change", "input", "transfer", "admin")
"""read: person-level data shown to someone; change: review decisions and erasures (use of the
hub by people); input and transfer: deliveries taken in and documents sent (the interfaces);
admin: set-up, configuration, keys and the audit log's own upkeep. Each is a chain of its own
with a retention period of its own."""

FORMAT = 1  # the canonical form's version: part of every sealed entry


def utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC time (SQLite hands back naive UTC, PostgreSQL aware)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _time(moment: dt.datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def plain_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as the database gives it back (tuples as lists, keys as strings): what is sealed
    is exactly what is stored."""
    plain: dict[str, Any] = json.loads(_json(value))
    return plain


@dataclass(frozen=True)
class EntryContent:
    """Everything an audit log entry records; all of it is sealed."""

    channel: str
    seq: int
    at: dt.datetime
    actor: str
    action: str
    objects: tuple[str, ...] = ()
    purpose: str | None = None
    case_ref: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> bytes:
        return _json(
            {
                "v": FORMAT,
                "channel": self.channel,
                "seq": self.seq,
                "at": _time(self.at),
                "actor": self.actor,
                "action": self.action,
                "objects": list(self.objects),
                "purpose": self.purpose,
                "case_ref": self.case_ref,
                "detail": self.detail,
            }
        )


@dataclass(frozen=True)
class Checkpoint:
    """Entries 1..``upto_seq`` of a channel were removed by retention; ``chain_mac`` is the mac of
    entry ``upto_seq``, which the first entry left chains to."""

    channel: str
    upto_seq: int
    chain_mac: str
    purged: int
    before: dt.datetime
    at: dt.datetime
    actor: str

    def canonical(self) -> bytes:
        return _json(
            {
                "v": FORMAT,
                "checkpoint": self.channel,
                "upto_seq": self.upto_seq,
                "chain_mac": self.chain_mac,
                "purged": self.purged,
                "before": _time(self.before),
                "at": _time(self.at),
                "actor": self.actor,
            }
        )


Heads = Mapping[str, tuple[int, str]]  # channel → (sequence number, mac) of its last entry


class ChainKey:
    """The audit key, derived per purpose: sealing the chain, and making tokens of object ids."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the audit key must have at least 32 bytes")
        self._chain = hmac.digest(master, b"kim-hub audit chain v1", "sha256")
        self._objects = hmac.digest(master, b"kim-hub audit objects v1", "sha256")

    def _mac(self, *parts: bytes) -> str:
        return hmac.new(self._chain, b"\n".join(parts), hashlib.sha256).hexdigest()

    def genesis(self, channel: str) -> str:
        """What entry 1 of a channel chains to."""
        return self._mac(b"genesis", channel.encode())

    def seal(self, previous: str, entry: EntryContent) -> str:
        """The entry's mac, chained to the previous entry's."""
        return self._mac(b"entry", previous.encode(), entry.canonical())

    def seal_checkpoint(self, checkpoint: Checkpoint) -> str:
        return self._mac(b"checkpoint", checkpoint.canonical())

    def seal_heads(self, heads: Heads) -> str:
        return self._mac(b"anchor", _json({channel: list(head) for channel, head in heads.items()}))

    def token(self, *parts: str) -> str:
        """A keyed token of an identifier: the same id always gives the same token, so the log can
        be searched by it, but the log never holds the id itself."""
        return hmac.new(self._objects, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]

    def record(self, source: str, record_id: str) -> str:
        """The object id of a source's record: ``record:<source>:<token of its record id>``."""
        return f"record:{source}:{self.token('record', source, record_id)}"

    def person(self, pseudonym: str) -> str:
        """The object id of a person: ``person:<token of its pseudonym>``. A token, not the
        pseudonym: erasure takes a person's pseudonym out of every byte of the home."""
        return f"person:{self.token('person', pseudonym)}"


def file_object(source: str, content_hash: str) -> str:
    """The object id of a delivered file: its source and the SHA-256 of its bytes."""
    return f"file:{source}:{content_hash}"


def review_object(item: int) -> str:
    return f"review:{item}"


INDEX_OBJECT = "index"
"""The object of an export of the whole index: it concerns every record and person."""


@dataclass(frozen=True)
class ChannelReport:
    """What verification found in one channel: its entries, and the first broken one if any."""

    channel: str
    entries: int = 0
    first: int | None = None
    last: int | None = None
    purged_upto: int = 0
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


@dataclass(frozen=True)
class StoredEntry:
    content: EntryContent
    mac: str


@dataclass(frozen=True)
class StoredCheckpoint:
    content: Checkpoint
    mac: str


def verify_channel(
    key: ChainKey,
    channel: str,
    entries: Iterable[StoredEntry],
    checkpoints: Sequence[StoredCheckpoint],
    anchor: tuple[int, str] | None = None,
) -> ChannelReport:
    """Walk one channel in sequence order (``entries`` must come ordered by ``seq``) and name the
    first broken entry: changed, moved, deleted, or missing from the end (against ``anchor``)."""
    try:
        walk = _Walk(key, channel, _sealed_checkpoints(key, channel, checkpoints))
    except _ChainBrokenError as broken:
        return ChannelReport(channel, broken_at=broken.at, problem=broken.problem)
    try:
        for stored in entries:
            walk.step(stored)
            if anchor is not None and stored.content.seq == anchor[0]:
                walk.anchored = stored.mac
        walk.check_end(anchor)
    except _ChainBrokenError as broken:
        return walk.report(broken)
    return walk.report()


class _ChainBrokenError(Exception):
    """Where a chain breaks (the first broken entry's sequence number) and how."""

    def __init__(self, at: int, problem: str) -> None:
        super().__init__(problem)
        self.at, self.problem = at, problem


def _sealed_checkpoints(key: ChainKey, channel: str, checkpoints: Sequence[StoredCheckpoint]) -> dict[int, str]:
    """upto_seq → chain mac of the channel's checkpoints, each checked against its seal."""
    covered: dict[int, str] = {}
    for stored in checkpoints:
        if stored.content.channel != channel or not hmac.compare_digest(key.seal_checkpoint(stored.content), stored.mac):
            base = max(covered, default=0)
            raise _ChainBrokenError(base + 1, f"a retention checkpoint after #{base} is not the hub's (forged or changed)")
        covered[stored.content.upto_seq] = stored.content.chain_mac
    return covered


@dataclass
class _Walk:
    """The walk along one channel's chain: what was seen so far, and the mac to chain to."""

    key: ChainKey
    channel: str
    covered: dict[int, str]  # upto_seq → chain mac, of the checkpoints the key sealed
    count: int = 0
    first: int | None = None
    last: int | None = None
    previous: str = ""
    anchored: str | None = None  # the mac of the entry the anchor names, once passed

    def step(self, stored: StoredEntry) -> None:
        """Take the next entry: in its place, and sealed onto the one before."""
        seq = stored.content.seq
        if self.last is None:
            self.first, self.previous = seq, self._start(seq)
        elif seq <= self.last:
            raise _ChainBrokenError(seq, f"entry #{seq} appears twice")
        elif seq > self.last + 1:
            raise _ChainBrokenError(self.last + 1, _missing(self.last + 1, seq - 1))
        if stored.content.channel != self.channel or not hmac.compare_digest(
            self.key.seal(self.previous, stored.content), stored.mac
        ):
            raise _ChainBrokenError(seq, f"entry #{seq} was changed, or moved out of its place")
        self.previous, self.last, self.count = stored.mac, seq, self.count + 1

    def _start(self, seq: int) -> str:
        """What the first entry left chains to: the genesis, or the checkpoint just before it."""
        if seq == 1:
            return self.key.genesis(self.channel)
        if seq - 1 in self.covered:
            return self.covered[seq - 1]
        base = max((upto for upto in self.covered if upto < seq), default=0)
        raise _ChainBrokenError(base + 1, _missing(base + 1, seq - 1))

    def check_end(self, anchor: tuple[int, str] | None) -> None:
        """The channel reaches as far as the anchor says the hub wrote, to the same entry."""
        if anchor is None:
            return
        wrote, mac = anchor
        end = self.last if self.last is not None else max(self.covered, default=0)
        if wrote > end:
            raise _ChainBrokenError(end + 1, f"{_missing(end + 1, wrote)} from the end (the hub wrote up to #{wrote})")
        known = self.anchored if self.anchored is not None else self.covered.get(wrote)
        if known is not None and not hmac.compare_digest(known, mac):
            raise _ChainBrokenError(wrote, f"entry #{wrote} is not the entry the hub wrote")

    def report(self, broken: _ChainBrokenError | None = None) -> ChannelReport:
        return ChannelReport(
            self.channel,
            self.count,
            self.first,
            self.last,
            max(self.covered, default=0),
            broken.at if broken else None,
            broken.problem if broken else None,
        )


def _missing(start: int, end: int) -> str:
    return f"entry #{start} is missing" if start == end else f"entries #{start} to #{end} are missing"
