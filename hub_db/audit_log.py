"""The audit log (SDM module 43): who read, took in, changed, sent or administered what, and when.

One append-only table, ``audit_log``, in five channels (``audit_chain.CHANNELS``), each a keyed
hash chain of its own (``hub_db.audit_chain``), so that the reads kept six months and the
transfers kept longer are purged apart without breaking each other. An entry holds the time, the
actor, the action, pseudonymous object ids, the purpose and case reference of a read, and a
detail of counts and hashes; never a name, a record's content or a record id in clear:

    record:<source>:<token>   a source's record (the token: a keyed hash of its record id)
    person:<token>            a person of the master index (a keyed hash of its pseudonym)
    file:<source>:<sha256>    a delivered file (the hash of its bytes)
    review:<id>               a review item
    index                     the whole index (an export of every record)

Because record ids and pseudonyms are tokens, erasing a record rewrites nothing here (a chain
cannot be rewritten without being re-sealed, and a re-sealed log proves nothing): the log keeps,
for its retention period, that something was sent to or read of a record, and whoever holds the
record id and the audit key can still find it (an access request, an incident), which is what a log is
for (Art. 5(2) GDPR; SDM module 43); to anyone else it no longer says which record or
person it was, and no byte of the home holds the erased id or pseudonym.

Writing: ``append`` adds an entry inside the caller's transaction (a transfer and its entry
commit together, or neither does) under a per-channel lock (``hub_db.locks``), so sequence
numbers have no gaps on SQLite and PostgreSQL alike. The session must come from a factory that
carries an ``Auditor`` (``hub_db.database.session_factory``): key, actor, anchor. After each
commit the anchor (``var/audit-anchor.json``: the last sequence number and mac per channel,
sealed) is advanced, so that entries cut from the end of a channel show too.

Append-only in the database as well: triggers (migration 0004) refuse every UPDATE, and every
DELETE of an entry no retention checkpoint covers; ``purge`` writes the checkpoint first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, delete, event, func, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from kim_hub.core.access import Actor
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import (
    CHANNELS,
    INDEX_OBJECT,
    ChainKey,
    ChannelReport,
    Checkpoint,
    EntryContent,
    Heads,
    StoredCheckpoint,
    StoredEntry,
    file_object,
    plain_json,
    review_object,
    utc,
    verify_channel,
)
from kim_hub.hub_db.audit_share import STREAM_BATCH, Share
from kim_hub.hub_db.bulk_insert import insert_rows
from kim_hub.hub_db.locks import hold
from kim_hub.hub_db.models import AuditCheckpoint, AuditEntry, table_of

__all__ = [
    "ANCHOR_FILE",
    "INDEX_OBJECT",
    "AuditFilter",
    "Auditor",
    "LogReport",
    "append",
    "append_many",
    "auditor_of",
    "count",
    "entries",
    "file_object",
    "last_sequences",
    "person_objects",
    "purge",
    "record_objects",
    "review_object",
    "session_info",
    "stream",
    "verify",
    "window",
]

log = logging.getLogger(__name__)

ANCHOR_FILE = "audit-anchor.json"
_AUDITOR = "kim_hub.auditor"
_PENDING = "kim_hub.audit_heads"  # channel → (seq, mac) of the last entry this transaction wrote
VERIFY_BATCH = 2000


def _as_stored(_source: str, record_id: str) -> str:
    return record_id


@dataclass
class Auditor:
    """What a session needs to write the log: the key (read only when first needed: a session that
    writes nothing needs none), who acts, where the anchor file is kept (None: no anchor), and
    ``record_name``: (source, stored record id) → the id a record's token is made of, one that no
    key rotation changes (``pipeline.database.auditor_for`` opens encrypted ids)."""

    load_key: Callable[[], bytes]
    actor: Actor
    anchor_path: Path | None = None
    record_name: Callable[[str, str], str] = _as_stored

    @cached_property
    def key(self) -> ChainKey:
        return ChainKey(self.load_key())


def session_info(auditor: Auditor) -> dict[str, Any]:
    """The ``info`` of sessions that write the log (``hub_db.database.session_factory``)."""
    return {_AUDITOR: auditor}


def auditor_of(session: Session) -> Auditor:
    """The session's auditor; a session without one must not change anything the log records."""
    found = session.info.get(_AUDITOR)
    if not isinstance(found, Auditor):
        raise RuntimeError("this database session was opened without an auditor and cannot write the audit log")
    return found


def record_objects(session: Session, records: Iterable[tuple[str, str]]) -> list[str]:
    """The object ids of (source, stored record id) pairs, in order, duplicates left out."""
    auditor = auditor_of(session)
    key, named = auditor.key, auditor.record_name
    return list(dict.fromkeys(key.record(source, named(source, record_id)) for source, record_id in records))


def person_objects(session: Session, pseudonyms: Iterable[str | None]) -> list[str]:
    """The object ids of persons by pseudonym (None: a record not linked yet), duplicates left out."""
    key = auditor_of(session).key
    return list(dict.fromkeys(key.person(p) for p in pseudonyms if p))


# --- writing -----------------------------------------------------------------------------------------


def append(
    session: Session,
    channel: str,
    action: str,
    objects: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
    purpose: str | None = None,
    case_ref: str | None = None,
) -> int:
    """Add an entry to ``channel`` in the session's transaction (the caller commits); returns its
    sequence number. The first entry of a channel in a transaction takes that channel's lock,
    held to the commit: take it late in a long transaction (an import appends last)."""
    if channel not in CHANNELS:
        raise ValueError(f"no audit channel {channel!r}")
    auditor = auditor_of(session)
    pending = _locked_heads(session, channel, auditor.key)
    seq, previous = pending[channel]
    content = EntryContent(
        channel=channel,
        seq=seq + 1,
        at=dt.datetime.now(dt.UTC),
        actor=str(auditor.actor),
        action=action,
        objects=tuple(objects),
        purpose=purpose,
        case_ref=case_ref,
        detail=plain_json(detail or {}),
    )
    mac = auditor.key.seal(previous, content)
    session.add(AuditEntry(**_stored(content, mac)))
    pending[channel] = (content.seq, mac)
    return content.seq


def append_many(session: Session, channel: str, entries: Sequence[tuple[str, Sequence[str], dict[str, Any]]]) -> None:
    """``append`` for many entries of one channel, each (action, objects, detail), in order: each
    sealed into the chain exactly as ``append`` would seal it, all written in one executemany
    (``hub_db.bulk_insert``) instead of an object and a flush each. A push of thousands of
    documents wrote its transfer entries this way. No entries: nothing written, no lock taken."""
    if channel not in CHANNELS:
        raise ValueError(f"no audit channel {channel!r}")
    if not entries:
        return
    auditor = auditor_of(session)
    pending = _locked_heads(session, channel, auditor.key)
    seq, previous = pending[channel]
    actor = str(auditor.actor)
    rows = []
    for action, objects, detail in entries:
        seq += 1
        content = EntryContent(
            channel, seq, dt.datetime.now(dt.UTC), actor, action, tuple(objects), None, None, plain_json(detail)
        )
        previous = auditor.key.seal(previous, content)
        rows.append(_stored(content, previous))
    insert_rows(session, table_of(AuditEntry), rows)
    pending[channel] = (seq, previous)


def _stored(content: EntryContent, mac: str) -> dict[str, Any]:
    """An entry's columns as stored: what was sealed, and the seal."""
    return {
        "channel": content.channel,
        "seq": content.seq,
        "created_at": content.at,
        "actor": content.actor,
        "action": content.action,
        "objects": list(content.objects),
        "purpose": content.purpose,
        "case_ref": content.case_ref,
        "detail": dict(content.detail),
        "mac": mac,
    }


def _locked_heads(session: Session, channel: str, key: ChainKey) -> dict[str, tuple[int, str]]:
    """This transaction's heads, with ``channel``'s: its lock taken and its head read once per
    transaction (no other can append to it until this one ends)."""
    pending: dict[str, tuple[int, str]] = session.info.setdefault(_PENDING, {})
    if channel not in pending:
        hold(session, f"kim-hub:audit:{channel}")
        pending[channel] = _head(session, channel, key)
    return pending


def _head(session: Session, channel: str, key: ChainKey) -> tuple[int, str]:
    """The channel's last entry (seq, mac); after a purge of every entry, its checkpoint's."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.mac).where(AuditEntry.channel == channel).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    if last is None:
        last = session.execute(
            select(AuditCheckpoint.upto_seq, AuditCheckpoint.chain_mac)
            .where(AuditCheckpoint.channel == channel)
            .order_by(AuditCheckpoint.upto_seq.desc())
            .limit(1)
        ).first()
    return (int(last[0]), str(last[1])) if last is not None else (0, key.genesis(channel))


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    """What this transaction appended is committed: advance the anchor to it."""
    heads = session.info.get(_PENDING)
    auditor = session.info.get(_AUDITOR)
    if heads and isinstance(auditor, Auditor) and auditor.anchor_path is not None:
        advance_anchor(auditor.anchor_path, auditor.key, heads)


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    """The channel locks end with the transaction: the next one reads the heads again."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- the anchor ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The anchor file as found: its heads, or why it cannot be used."""

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    problem: str | None = None
    missing: bool = False


def read_anchor(path: Path, key: ChainKey) -> Anchor:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        heads = {str(channel): (int(head[0]), str(head[1])) for channel, head in document["heads"].items()}
        sealed = str(document["mac"])
    except FileNotFoundError:
        return Anchor(missing=True, problem=f"the anchor file {path} is missing: entries cut from the end cannot be seen")
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return Anchor(problem=f"the anchor file {path} cannot be read")
    if key.seal_heads(heads) != sealed:
        return Anchor(problem=f"the anchor file {path} is not the hub's (changed or replaced)")
    return Anchor(heads)


def advance_anchor(path: Path, key: ChainKey, heads: Heads) -> None:
    """Raise the anchor's heads to ``heads`` where they are further (several processes append:
    the file is locked, and a head only ever moves forward). A damaged anchor is left as it is,
    for verification to report; a failure to write is logged and the anchor stays behind, which
    weakens nothing (it is a lower bound)."""
    try:
        with _locked(path.with_name(path.name + ".lock")):
            found = read_anchor(path, key)
            if found.problem and not found.missing:
                log.warning("audit anchor not advanced: %s", found.problem)
                return
            merged = dict(found.heads)
            for channel, head in heads.items():
                if head[0] > merged.get(channel, (0, ""))[0]:
                    merged[channel] = head
            if merged == found.heads:
                return
            text = json.dumps({"heads": {c: list(h) for c, h in sorted(merged.items())}, "mac": key.seal_heads(merged)})
            partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(partial, path)
    except OSError as error:
        log.warning("audit anchor not advanced (%s)", type(error).__name__)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


# --- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which entries ``entries`` lists; empty fields do not narrow.

    ``objects``: any of these object ids (a record's token, its person, ``index``); ``actor``:
    ``kind:name``, or a bare name of any kind; ``action``: an action or a family of them
    (``transfer`` is ``transfer.*``). ``controller`` names a controller and ``share`` is what it
    answers for (``hub_db.audit_share``): its entries and those about the whole platform, picked
    in Python from the stream the other filters select. The extension point for more filters is
    here and in ``_conditions``."""

    channel: str | None = None
    actor: str | None = None
    action: str | None = None
    objects: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    controller: str | None = None
    share: Share | None = field(default=None, repr=False)


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(wanted: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.channel:
        conditions.append(AuditEntry.channel == wanted.channel)
    if wanted.actor:
        conditions.append(
            AuditEntry.actor == wanted.actor
            if ":" in wanted.actor
            else AuditEntry.actor.like(f"%:{_like_literal(wanted.actor)}", escape="\\")
        )
    if wanted.action:
        conditions.append(
            or_(AuditEntry.action == wanted.action, AuditEntry.action.like(f"{_like_literal(wanted.action)}.%", escape="\\"))
        )
    if wanted.objects:
        text = cast(AuditEntry.objects, Text)
        conditions.append(or_(*(text.like(f'%"{_like_literal(o)}"%', escape="\\") for o in wanted.objects)))
    if wanted.since:
        conditions.append(AuditEntry.created_at >= wanted.since)
    if wanted.until:
        conditions.append(AuditEntry.created_at < wanted.until)
    return conditions


def last_sequences(session: Session) -> dict[str, int]:
    """Each channel's last sequence number (a channel purged to its end: its checkpoint's), for
    what a restored database lost against the anchor (`kim-hub restore`)."""
    found: dict[str, int] = {}
    for channel, seq in session.execute(
        select(AuditCheckpoint.channel, func.max(AuditCheckpoint.upto_seq)).group_by(AuditCheckpoint.channel)
    ):
        found[str(channel)] = int(seq)
    for channel, seq in session.execute(select(AuditEntry.channel, func.max(AuditEntry.seq)).group_by(AuditEntry.channel)):
        found[str(channel)] = max(found.get(str(channel), 0), int(seq))
    return found


def count(session: Session, wanted: AuditFilter) -> int:
    """How many entries match (`kim-hub retention --plan`: how many a channel's period has passed)."""
    return int(session.execute(select(func.count()).select_from(AuditEntry).where(*_conditions(wanted))).scalar_one())


def entries(session: Session, wanted: AuditFilter, limit: int | None = 50) -> list[EntryContent]:
    """The entries that match, newest first (``limit`` None: all). With a controller's
    ``share``, the log is streamed in batches and each entry judged by it until ``limit`` match."""
    query = select(AuditEntry).where(*_conditions(wanted)).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if wanted.share is None:
        if limit:
            query = query.limit(limit)
        return [_content(row) for row in session.execute(query).scalars()]
    found: list[EntryContent] = []
    for content in stream(session, query):
        if wanted.share.concerns(content):
            found.append(content)
            if limit and len(found) >= limit:
                break
    return found


def window(session: Session, wanted: AuditFilter) -> Iterator[EntryContent]:
    """Every entry the filter's SQL conditions select, oldest first, streamed in batches."""
    query = select(AuditEntry).where(*_conditions(wanted)).order_by(AuditEntry.created_at, AuditEntry.id)
    return stream(session, query)


def stream(session: Session, query: Any) -> Iterator[EntryContent]:
    """The entries of ``query``, fetched ``STREAM_BATCH`` rows at a time (closed when the caller stops)."""
    result = session.execute(query.execution_options(yield_per=STREAM_BATCH)).scalars()
    try:
        for row in result:
            yield _content(row)
    finally:
        result.close()


def _content(row: AuditEntry) -> EntryContent:
    return EntryContent(
        channel=row.channel,
        seq=row.seq,
        at=utc(row.created_at),
        actor=row.actor,
        action=row.action,
        objects=tuple(row.objects or ()),
        purpose=row.purpose,
        case_ref=row.case_ref,
        detail=row.detail or {},
    )


# --- verifying --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogReport:
    """Every channel's report, and what is wrong with the anchor if anything."""

    channels: list[ChannelReport]
    anchor_problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.anchor_problem is None and all(report.intact for report in self.channels)


def verify(session: Session, key: ChainKey, anchor_path: Path | None) -> LogReport:
    """Recompute every channel's chain from its entries and checkpoints, against the anchor."""
    anchor = read_anchor(anchor_path, key) if anchor_path is not None else Anchor()
    reports = [
        verify_channel(key, channel, _stored_entries(session, channel), _checkpoints(session, channel), anchor.heads.get(channel))
        for channel in CHANNELS
    ]
    problem = anchor.problem
    if anchor.missing and not any(r.entries or r.purged_upto for r in reports):
        problem = None  # nothing written yet: nothing to anchor
    return LogReport(reports, problem)


def _stored_entries(session: Session, channel: str) -> Iterator[StoredEntry]:
    query = select(AuditEntry).where(AuditEntry.channel == channel).order_by(AuditEntry.seq)
    for row in session.execute(query.execution_options(yield_per=VERIFY_BATCH)).scalars():
        yield StoredEntry(_content(row), row.mac)


def _checkpoints(session: Session, channel: str) -> list[StoredCheckpoint]:
    query = select(AuditCheckpoint).where(AuditCheckpoint.channel == channel).order_by(AuditCheckpoint.id)
    return [
        StoredCheckpoint(
            Checkpoint(c.channel, c.upto_seq, c.chain_mac, c.purged, utc(c.before), utc(c.created_at), c.actor), c.mac
        )
        for c in session.execute(query).scalars()
    ]


# --- retention -------------------------------------------------------------------------------------------


def purge(session: Session, channel: str, before: dt.datetime) -> int:
    """Remove the channel's entries older than ``before`` (the caller commits); returns how many.

    Only a prefix of the chain goes (up to the first entry that is not due), behind a checkpoint
    sealed with the key: the first entry left chains to it, so the channel still verifies. The
    purge itself is an admin entry."""
    if channel not in CHANNELS:
        raise ConfigError(f"no audit channel {channel!r}")
    auditor = auditor_of(session)
    _locked_heads(session, channel, auditor.key)
    session.flush()
    in_channel = AuditEntry.channel == channel
    lowest: int | None = session.execute(select(func.min(AuditEntry.seq)).where(in_channel)).scalar()
    if lowest is None:
        return 0
    first_kept: int | None = session.execute(
        select(func.min(AuditEntry.seq)).where(in_channel, AuditEntry.created_at >= before)
    ).scalar()
    highest = session.execute(select(func.max(AuditEntry.seq)).where(in_channel)).scalar_one()
    upto = first_kept - 1 if first_kept is not None else highest
    if upto < lowest:
        return 0
    chain_mac = session.execute(select(AuditEntry.mac).where(in_channel, AuditEntry.seq == upto)).scalar_one()
    now = dt.datetime.now(dt.UTC)
    checkpoint = Checkpoint(channel, upto, chain_mac, upto - lowest + 1, utc(before), now, str(auditor.actor))
    session.add(
        AuditCheckpoint(
            channel=channel,
            upto_seq=upto,
            chain_mac=chain_mac,
            purged=checkpoint.purged,
            before=checkpoint.before,
            created_at=now,
            actor=checkpoint.actor,
            mac=auditor.key.seal_checkpoint(checkpoint),
        )
    )
    session.flush()  # the triggers let only entries behind a checkpoint go
    session.execute(delete(AuditEntry).where(in_channel, AuditEntry.seq <= upto))
    append(
        session,
        "admin",
        "audit.purge",
        detail={"channel": channel, "entries": checkpoint.purged, "upto_seq": upto, "before": checkpoint.before.isoformat()},
    )
    return checkpoint.purged
