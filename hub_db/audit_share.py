"""A controller's share of the audit log (SDM module 50): which entries concern which sources.

The hub is shared IT of several controllers; each may ask for its own share of the log
(`kim-hub audit --controller C`) and must be told its share of an incident (`kim-hub
incident`). An entry names what it concerns only by pseudonymous object ids and a detail of
counts (``hub_db.audit_chain``), so its controllers are found from those:

* an object that names a source: ``record:<source>:<token>``, ``file:<source>:<sha256>``;
* a detail that names one: ``source`` (a purge of a source's copies, a source added),
  ``recipient`` (a transfer's receiving body) and the ``source`` of each consent a transfer
  used (the sending body, besides the records it drew on among its objects);
* a person object, ``person:<token>``: the person's token is made of its pseudonym, so it is
  matched against the tokens of the persons that *currently* have a record of the controller's
  sources (``person_tokens``). A person erased since has no pseudonym left to make the token
  of: such entries are attributed by their record objects only.

Entries about the whole platform concern every controller: an export of the whole index (the
``index`` object) and entries that name no object and no source (restoring the database, a key
rotation, `kim-hub init`, the audit log's own upkeep). They are part of every share and marked.

The rules are pure functions over entries (``EntryContent``), so they are tested without a
database; ``person_tokens`` and ``record_persons`` are the two queries they need.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.audit_chain import INDEX_OBJECT, ChainKey, EntryContent
from kim_hub.hub_db.models import Link, Person, SourceRecord

__all__ = [
    "STREAM_BATCH",
    "Concern",
    "Share",
    "SourceActivity",
    "Tally",
    "entry_sources",
    "person_sources",
    "person_tokens",
    "record_persons",
    "streamed_rows",
    "tally",
    "whole_platform",
]

STREAM_BATCH = 2000
"""Rows fetched at a time when the log or the records are streamed: memory stays bounded."""

Concern = Literal["own", "platform"]


def _object_source(obj: str) -> str | None:
    """The source a ``record:`` or ``file:`` object names; None for any other object."""
    kind, _, rest = obj.partition(":")
    if kind in ("record", "file"):
        source, sep, _token = rest.partition(":")
        return source if sep else None
    return None


def _detail_sources(detail: Any) -> set[str]:
    """The sources a detail names: ``source``, ``recipient``, and each consent's ``source``."""
    if not isinstance(detail, dict):
        return set()
    found = {detail[key] for key in ("source", "recipient") if isinstance(detail.get(key), str)}
    consents = detail.get("consents")
    if isinstance(consents, list):
        found |= {c["source"] for c in consents if isinstance(c, dict) and isinstance(c.get("source"), str)}
    return found


def entry_sources(entry: EntryContent) -> set[str]:
    """Every source an entry names, by its objects or its detail."""
    return {s for s in map(_object_source, entry.objects) if s} | _detail_sources(entry.detail)


def entry_persons(entry: EntryContent) -> set[str]:
    """The person objects of an entry."""
    return {obj for obj in entry.objects if obj.startswith("person:")}


def whole_platform(entry: EntryContent) -> bool:
    """Does the entry concern the whole platform: an export of the whole index, or no object and
    no source at all (an admin action such as a restore or a key rotation)?"""
    return INDEX_OBJECT in entry.objects or (not entry.objects and not _detail_sources(entry.detail))


@dataclass(frozen=True)
class Share:
    """What a controller answers for: its sources, and the tokens of the persons that currently
    have a record of them (``person_tokens``)."""

    sources: frozenset[str]
    persons: frozenset[str] = frozenset()

    def concerns(self, entry: EntryContent) -> Concern | None:
        """``own`` for an entry that names one of the sources or persons, ``platform`` for one
        about the whole platform, None for an entry of other controllers only."""
        if entry_sources(entry) & self.sources or entry_persons(entry) & self.persons:
            return "own"
        if whole_platform(entry):
            return "platform"
        return None


def person_tokens(
    session: Session, sources: Collection[str], key: ChainKey, wanted: Collection[str] | None = None
) -> frozenset[str]:
    """The person objects (``person:<token>``) of the persons that currently have a record of
    ``sources``, streamed; with ``wanted``, only those among it (memory bounded by it)."""
    if not sources:
        return frozenset()
    query = (
        select(Person.pseudonym)
        .join(Link, Link.person_id == Person.id)
        .join(SourceRecord, SourceRecord.id == Link.record_id)
        .where(SourceRecord.source.in_(sorted(sources)))
        .distinct()
    )
    found: set[str] = set()
    for pseudonym in _streamed(session, query):
        token = key.person(pseudonym)
        if wanted is None or token in wanted:
            found.add(token)
    return frozenset(found)


def person_sources(session: Session, key: ChainKey, wanted: Collection[str]) -> dict[str, set[str]]:
    """For each person object of ``wanted`` that is a current person: the sources it has records
    in (streamed over the current links; a person erased since is not found)."""
    if not wanted:
        return {}
    query = (
        select(Person.pseudonym, SourceRecord.source)
        .join(Link, Link.person_id == Person.id)
        .join(SourceRecord, SourceRecord.id == Link.record_id)
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for pseudonym, source in streamed_rows(session, query):
        token = key.person(pseudonym)
        if token in wanted:
            found.setdefault(token, set()).add(source)
    return found


def record_persons(session: Session, source: str, key: ChainKey, named: Any, wanted: Collection[str]) -> dict[str, str | None]:
    """For each record object of ``wanted`` that names a current record of ``source``: its
    person's object (None: not linked yet). Records erased since are not found. Streamed over the
    source's records, one keyed hash each (``named``: how the log names a stored record id)."""
    if not wanted:
        return {}
    query = (
        select(SourceRecord.record_id, Person.pseudonym)
        .outerjoin(Link, Link.record_id == SourceRecord.id)
        .outerjoin(Person, Person.id == Link.person_id)
        .where(SourceRecord.source == source)
    )
    found: dict[str, str | None] = {}
    for record_id, pseudonym in streamed_rows(session, query):
        obj = key.record(source, named(source, record_id))
        if obj in wanted:
            found[obj] = key.person(pseudonym) if pseudonym else None
    return found


def _streamed(session: Session, query: Any) -> Iterator[Any]:
    for row in streamed_rows(session, query):
        yield row[0]


def streamed_rows(session: Session, query: Any) -> Iterator[Any]:
    """The rows of ``query``, fetched ``STREAM_BATCH`` at a time (closed when the caller stops)."""
    result = session.execute(query.execution_options(yield_per=STREAM_BATCH))
    try:
        yield from result
    finally:
        result.close()


# --- what the entries of a window touched, per source (`kim-hub incident`) -------------------------------


@dataclass
class SourceActivity:
    """What the audit log's entries of a window did with one source's data, as distinct objects
    (tokens, never ids) and counts."""

    entries: set[tuple[str, int]] = field(default_factory=set)  # (channel, seq) of the entries naming it
    files_in: set[str] = field(default_factory=set)
    records_in: int = 0
    records_read: set[str] = field(default_factory=set)
    records_changed: set[str] = field(default_factory=set)
    records_erased: set[str] = field(default_factory=set)
    copies_removed: int = 0
    records_sent: set[str] = field(default_factory=set)
    records_received: set[str] = field(default_factory=set)
    categories_sent: set[str] = field(default_factory=set)
    categories_received: set[str] = field(default_factory=set)

    def records(self) -> set[str]:
        """Every record object of the source the window's entries touched."""
        return self.records_read | self.records_changed | self.records_erased | self.records_sent | self.records_received


@dataclass
class Tally:
    """The entries of a window, per source, with the person objects seen (resolved to controllers
    by the caller: ``person_sources``) and the entries about the whole platform."""

    sources: dict[str, SourceActivity] = field(default_factory=dict)
    persons_read: set[str] = field(default_factory=set)
    persons_named: set[str] = field(default_factory=set)
    person_entries: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)  # entry → its person objects
    platform: dict[str, int] = field(default_factory=dict)  # action → entries
    entries: int = 0

    def add(self, entry: EntryContent) -> None:
        """Count one entry in (``tally`` runs it over a stream)."""
        self.entries += 1
        if whole_platform(entry):
            self.platform[entry.action] = self.platform.get(entry.action, 0) + 1
            return
        persons = entry_persons(entry)
        if entry.channel == "read":
            self.persons_read |= persons
        self.persons_named |= persons
        if persons:
            self.person_entries[(entry.channel, entry.seq)] = frozenset(persons)
        for source in entry_sources(entry):
            _count(self.sources.setdefault(source, SourceActivity()), source, entry)


def tally(entries: Iterable[EntryContent]) -> Tally:
    """What a window's entries touched, per source."""
    counted = Tally()
    for entry in entries:
        counted.add(entry)
    return counted


def _records_of(source: str, objects: Iterable[str]) -> set[str]:
    prefix = f"record:{source}:"
    return {obj for obj in objects if obj.startswith(prefix)}


def _number(detail: Any, key: str) -> int:
    value = detail.get(key) if isinstance(detail, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _categories(detail: Any) -> set[str]:
    found = detail.get("categories") if isinstance(detail, dict) else None
    return {c for c in found if isinstance(c, str)} if isinstance(found, list) else set()


def _count(activity: SourceActivity, source: str, entry: EntryContent) -> None:
    """One entry's share of one source's activity, by channel."""
    activity.entries.add((entry.channel, entry.seq))
    records = _records_of(source, entry.objects)
    if entry.channel == "input":
        files = {obj for obj in entry.objects if obj.startswith(f"file:{source}:")}
        activity.files_in |= files
        if files:
            activity.records_in += _number(entry.detail, "accepted")
    elif entry.channel == "read":
        activity.records_read |= records
    elif entry.channel == "change":
        if entry.action.startswith("erase."):
            activity.records_erased |= records
        elif entry.action == "copies.purge" and entry.detail.get("source") == source:
            activity.copies_removed += sum(_number(entry.detail, k) for k in ("archive_purged", "failed_purged"))
        else:
            activity.records_changed |= records
    elif entry.channel == "transfer":
        recipient = entry.detail.get("recipient") == source
        received = _records_of(source, entry.objects[:1]) if recipient else set()
        sent = records - received
        sent_under_consent = any(isinstance(c, dict) and c.get("source") == source for c in entry.detail.get("consents") or ())
        activity.records_received |= received
        activity.records_sent |= sent
        if recipient:
            activity.categories_received |= _categories(entry.detail)
        if sent or sent_under_consent:
            activity.categories_sent |= _categories(entry.detail)
