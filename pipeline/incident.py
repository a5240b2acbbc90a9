"""An incident window, told per controller (SDM module 50; Art. 33 GDPR, § 33 KDG, § 32 DSG-EKD).

The hub is shared IT of several controllers under different supervisors. When something went
wrong between two times (a stolen account, a misdirected export, a breach of the server), each
controller must learn its own share, to notify its own supervisor under its own law. `kim-hub
incident --since T [--until T]` lists, for every declared controller, its name, regime,
supervisor, notification rule and contact, and what of its sources' data the window concerned,
as categories and counts, never an identity:

* records held during the window: its sources' current records that arrived before ``until``,
  plus those erased since ``since`` (the erasure ledger's tombstones of its sources: they were
  held at some time from ``since`` on, perhaps only after ``until``, so the sum is "at most");
* what the audit log's entries of the window did, each counted as distinct objects (tokens)
  by channel: records and files taken in (input), records and persons read (read), records
  changed and erased (change), records sent and received, with the data categories (transfer);
* persons concerned: the persons the window's entries name, or whose records they name, that
  have a record of its sources now; a record erased since names no person any more, so where
  the window touched such records the count is "at least".

Entries about the whole platform (an export of the whole index, a restore, a key rotation) are
counted apart: they concern every controller that holds records, and every controller is listed
with what it holds, marked with whether the window touched its own data. Sources that name no
controller (a home from before controllers were declared) are listed one by one under
"controller not declared". The report itself is an admin entry of the audit log (counts only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import utc
from kim_hub.hub_db.audit_log import AuditFilter, auditor_of, window
from kim_hub.hub_db.audit_share import SourceActivity, Tally, person_sources, record_persons, streamed_rows, tally
from kim_hub.hub_db.erasure_ledger import RULE_LOST, Tombstone
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.mappings.controllers import Regime, Supervisor, regime, supervisor
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.tombstones import erasure_ledger

__all__ = ["ControllerShare", "IncidentReport", "ShareCounts", "incident_report"]


@dataclass(frozen=True)
class ShareCounts:
    """What a window concerned of a group of sources' data: counts and categories, no identity."""

    records_now: int = 0  # current records that arrived before the window's end
    records_erased_since: int = 0  # erased since the window's start (tombstones)
    files_in: int = 0
    records_in: int = 0  # rows taken in (new or changed records) by those files
    records_read: int = 0
    persons_read: int = 0
    records_changed: int = 0
    records_erased: int = 0
    copies_removed: int = 0  # delivered files removed from archive/ and failed/
    records_sent: int = 0
    records_received: int = 0
    categories_sent: tuple[str, ...] = ()
    categories_received: tuple[str, ...] = ()
    persons: int = 0
    persons_at_least: bool = False
    entries: int = 0  # audit log entries of the window about this data

    @property
    def records_held(self) -> int:
        """Records held during the window: an upper bound when some were erased since (``held_at_most``)."""
        return self.records_now + self.records_erased_since

    @property
    def held_at_most(self) -> bool:
        return self.records_erased_since > 0

    @property
    def active(self) -> bool:
        """Did an entry of the window concern this data itself (not only the whole platform)?"""
        return self.entries > 0


@dataclass(frozen=True)
class ControllerShare:
    """One controller, its law and supervisor, and its share of the window."""

    code: str
    name: str
    regime: Regime
    supervisor: Supervisor
    contact: str | None
    sources: tuple[str, ...]
    counts: ShareCounts

    @property
    def affected(self) -> bool:
        """Involved in the incident: it holds records (the platform holding them was the scope) or
        the window touched its data."""
        return self.counts.records_held > 0 or self.counts.active


@dataclass(frozen=True)
class IncidentReport:
    """The window, every declared controller's share, the sources without one, and the entries
    about the whole platform (action → count)."""

    since: dt.datetime
    until: dt.datetime
    controllers: list[ControllerShare]
    undeclared: dict[str, ShareCounts] = field(default_factory=dict)
    platform: dict[str, int] = field(default_factory=dict)
    entries: int = 0


def incident_report(home: HubHome, since: dt.datetime, until: dt.datetime | None = None) -> IncidentReport:
    """Every controller's share of the window [since, until) (``until`` default: now)."""
    config = home.load_config()
    until = until or dt.datetime.now(dt.UTC)
    if since >= until:
        raise ConfigError("--since must be before --until (and before now)")
    erased = _erased_since(erasure_ledger(home, config).entries(), since)
    with open_sessions(home, config) as sessions:
        with sessions() as session:
            facts = _facts(session, since, until, erased)
        report = _report(config, since, until, facts)
        record_admin(
            sessions,
            "incident.report",
            {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "entries": facts.counted.entries,
                "controllers_affected": sum(share.affected for share in report.controllers),
                "sources_not_declared": len(report.undeclared),
            },
        )
    return report


@dataclass(frozen=True)
class _Facts:
    """What the database, the log and the ledger say of the window, per source (tokens and counts)."""

    held: Mapping[str, int]  # current records that arrived before the end
    erased: Mapping[str, int]  # records erased since the start (tombstones)
    counted: Tally  # the log's entries of the window
    owners: Mapping[str, set[str]]  # person object named in the window → the sources it has records in now
    persons_of: Mapping[str, Mapping[str, str | None]]  # source → touched record object → its person object
    arrived: Mapping[str, set[str]]  # source → person objects of its records that arrived or changed in the window

    def counts(self, sources: Collection[str]) -> ShareCounts:
        """One group of sources' share: the sources' activities summed (their objects are
        disjoint: each names its source), persons by the sources they have records in now."""
        ordered = sorted(set(sources))
        wanted = set(ordered)
        activities = [self.counted.sources.get(source, SourceActivity()) for source in ordered]
        persons = {person for person, at in self.owners.items() if at & wanted}
        persons |= set().union(*(self.arrived.get(source, set()) for source in wanted))
        unresolved = False
        for source, activity in zip(ordered, activities, strict=True):
            found = self.persons_of.get(source, {})
            persons |= {person for person in found.values() if person is not None}
            unresolved |= bool(activity.records() - set(found))  # erased since: no person to name
        return ShareCounts(
            records_now=sum(self.held.get(source, 0) for source in wanted),
            records_erased_since=sum(self.erased.get(source, 0) for source in wanted),
            files_in=sum(len(a.files_in) for a in activities),
            records_in=sum(a.records_in for a in activities),
            records_read=sum(len(a.records_read) for a in activities),
            persons_read=sum(1 for person in self.counted.persons_read if self.owners.get(person, set()) & wanted),
            records_changed=sum(len(a.records_changed) for a in activities),
            records_erased=sum(len(a.records_erased) for a in activities),
            copies_removed=sum(a.copies_removed for a in activities),
            records_sent=sum(len(a.records_sent) for a in activities),
            records_received=sum(len(a.records_received) for a in activities),
            categories_sent=tuple(sorted(set().union(*(a.categories_sent for a in activities)))),
            categories_received=tuple(sorted(set().union(*(a.categories_received for a in activities)))),
            persons=len(persons),
            persons_at_least=unresolved,
            entries=len(self._entries(wanted, activities)),
        )

    def _entries(self, sources: set[str], activities: Iterable[SourceActivity]) -> set[tuple[str, int]]:
        """The window's entries about a group of sources, each once: those naming one of them,
        and those naming a person that has a record of them now."""
        found: set[tuple[str, int]] = set().union(*(a.entries for a in activities))
        for entry, persons in self.counted.person_entries.items():
            if any(self.owners.get(person, set()) & sources for person in persons):
                found.add(entry)
        return found


def _facts(session: Session, since: dt.datetime, until: dt.datetime, erased: Mapping[str, int]) -> _Facts:
    """The window's facts: the log streamed once, the person and record objects it names resolved
    against the current records (one keyed hash per record of a touched source)."""
    auditor = auditor_of(session)
    counted = tally(window(session, AuditFilter(since=since, until=until)))
    persons_of = {
        source: record_persons(session, source, auditor.key, auditor.record_name, activity.records())
        for source, activity in counted.sources.items()
        if activity.records()
    }
    return _Facts(
        held=_held_before(session, until),
        erased=erased,
        counted=counted,
        owners=person_sources(session, auditor.key, counted.persons_named),
        persons_of=persons_of,
        arrived=_arrived_persons(session, since, until),
    )


def _erased_since(tombstones: Iterable[Tombstone], since: dt.datetime) -> dict[str, int]:
    """Records erased from ``since`` on, per source (the ledger's tombstones; a loss notice names none).
    A tombstone's time is kept to the second: one of the window's first second counts (an erasure
    just after ``since`` must not be missed; the count is an upper bound anyway)."""
    erased: dict[str, int] = {}
    start = since.replace(microsecond=0)
    for tombstone in tombstones:
        if tombstone.rule != RULE_LOST and utc(dt.datetime.fromisoformat(tombstone.at)) >= start:
            erased[tombstone.source] = erased.get(tombstone.source, 0) + int(tombstone.counts.get("records", 0))
    return erased


def _held_before(session: Session, until: dt.datetime) -> dict[str, int]:
    """Current records per source that arrived before ``until``."""
    query = select(SourceRecord.source, func.count()).where(SourceRecord.created_at < until).group_by(SourceRecord.source)
    return {str(source): int(count) for source, count in session.execute(query)}


def _arrived_persons(session: Session, since: dt.datetime, until: dt.datetime) -> dict[str, set[str]]:
    """Per source, the person objects of its current records that arrived or changed in the
    window (an intake's entry names the file, not its records). Streamed."""
    key = auditor_of(session).key
    in_window = or_(
        and_(SourceRecord.created_at >= since, SourceRecord.created_at < until),
        and_(SourceRecord.updated_at >= since, SourceRecord.updated_at < until),
    )
    query = (
        select(SourceRecord.source, Person.pseudonym)
        .join(Link, Link.record_id == SourceRecord.id)
        .join(Person, Person.id == Link.person_id)
        .where(in_window)
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for source, pseudonym in streamed_rows(session, query):
        found.setdefault(str(source), set()).add(key.person(pseudonym))
    return found


def _report(config: HubConfig, since: dt.datetime, until: dt.datetime, facts: _Facts) -> IncidentReport:
    """Every declared controller with its share; every source without one (configured, or holding
    or touched though no longer configured) on its own."""
    controllers = [
        ControllerShare(
            code,
            declared.name,
            regime(declared.regime),
            supervisor(declared.supervisor),
            declared.contact,
            tuple(config.sources_of(code)),
            facts.counts(config.sources_of(code)),
        )
        for code, declared in config.controllers.items()
    ]
    declared_sources = {name for name, source in config.sources.items() if source.controller is not None}
    seen = set(config.sources) | set(facts.held) | set(facts.erased) | set(facts.counted.sources)
    undeclared = {source: facts.counts([source]) for source in sorted(seen - declared_sources)}
    undeclared = {
        source: share for source, share in undeclared.items() if source in config.sources or share.records_held or share.active
    }
    platform = dict(sorted(facts.counted.platform.items()))
    return IncidentReport(since, until, controllers, undeclared, platform, facts.counted.entries)


def as_json(report: IncidentReport) -> dict[str, Any]:
    """The report as plain data (`kim-hub incident --format json`)."""
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "entries": report.entries,
        "whole_platform": report.platform,
        "controllers": [
            {
                "controller": share.code,
                "name": share.name,
                "affected": share.affected,
                "active": share.counts.active,
                "regime": {"code": share.regime.code, "name": share.regime.name, "law": share.regime.law},
                "notification": share.regime.notification,
                "supervisor": {"code": share.supervisor.code, "name": share.supervisor.name},
                "contact": share.contact,
                "sources": list(share.sources),
                **_counts_json(share.counts),
            }
            for share in report.controllers
        ],
        "controller_not_declared": [{"source": source, **_counts_json(counts)} for source, counts in report.undeclared.items()],
    }


def _counts_json(counts: ShareCounts) -> dict[str, Any]:
    return {
        "records_held": {
            "count": counts.records_held,
            "at_most": counts.held_at_most,
            "now": counts.records_now,
            "erased_since": counts.records_erased_since,
        },
        "taken_in": {"files": counts.files_in, "records": counts.records_in},
        "read": {"records": counts.records_read, "persons": counts.persons_read},
        "changed": {"records": counts.records_changed},
        "erased": {"records": counts.records_erased, "delivered_files": counts.copies_removed},
        "transfers": {
            "sent": counts.records_sent,
            "received": counts.records_received,
            "categories_sent": list(counts.categories_sent),
            "categories_received": list(counts.categories_received),
        },
        "persons_concerned": {"count": counts.persons, "at_least": counts.persons_at_least},
        "entries": counts.entries,
    }
