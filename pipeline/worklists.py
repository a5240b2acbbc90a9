"""The coordinators' worklists: chain gaps and Rechtskreis transitions per person.

The rules are pure functions in ``exchange`` (``find_gap``, ``transitions_of``) applied to every
person the hub may hold for KIM (``exchange.legal_basis``: a consent naming kim, or a source whose
statute covers KIM) — a person known only from statutory exports for linkage is in no worklist;
persons appear by pseudonym only, districts by their label from the installation's list
(``pipeline.vocabulary``), never as a source wrote them. Each list is a read of person-level
data: one audit entry naming every person on it (``pipeline.audit``), written before it is
returned.

The web application lists them for one coordinator: ``districts`` keeps the findings of the
districts it is granted (``district_key``: the list's code, or ``_unknown`` for a district the list
does not hold), ``actor`` and ``context`` name who read them in that entry, and ``export`` says the
list left the hub as a file (``gaps.export``, ``transitions.export``) rather than being shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from kim_hub.core.access import Access, Actor
from kim_hub.exchange.gaps import Gap, find_gap
from kim_hub.exchange.legal_basis import held_for_kim
from kim_hub.exchange.summary import UNKNOWN_DISTRICT, HeldRecord
from kim_hub.exchange.transitions import Transition, transitions_of
from kim_hub.hub_db.audit_log import person_objects
from kim_hub.hub_db.transfers import persons_with_records, pseudonyms
from kim_hub.mappings.vocabulary import CodeList
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.vocabulary import vocabulary

UNKNOWN_KEY = "_unknown"
"""The key of the findings whose district the installation's list does not hold (a code of the
list starts with a letter or digit, so it never is this)."""


class _AboutAPerson(Protocol):
    @property
    def pseudonym(self) -> str: ...

    @property
    def district(self) -> str: ...


@dataclass(frozen=True)
class District:
    """A district a worklist can be opened for: its key (the list's code, or ``UNKNOWN_KEY``) and label."""

    key: str
    label: str


@dataclass(frozen=True)
class Reader:
    """Who reads a worklist and what they may see (the web application's user; the command line
    passes none): the audit entry's actor and context, and the district keys granted (None: all)."""

    actor: Actor | None = None
    context: Mapping[str, Any] | None = None
    districts: Collection[str] | None = None
    export: bool = False


def district_key(value: str | None, districts: CodeList) -> str:
    """The key a stored district value is listed under: its code in the list, else ``UNKNOWN_KEY``."""
    return districts.stored_code(value) or UNKNOWN_KEY


def worklist_districts(home: HubHome, granted: Collection[str] | None) -> list[District]:
    """The districts a reader granted ``granted`` (codes; None: every district) may open, in the
    list's order; the unknown district only for a reader granted all (nobody is granted it by code)."""
    labels = vocabulary(home, home.load_config()).districts.labels
    listed = [District(code, label) for code, label in labels.items() if granted is None or code in granted]
    return listed + ([District(UNKNOWN_KEY, UNKNOWN_DISTRICT)] if granted is None else [])


Finding = TypeVar("Finding", bound=_AboutAPerson)


def chain_gaps(
    home: HubHome, today: dt.date | None = None, access: Access | None = None, reader: Reader | None = None
) -> list[Gap]:
    """Persons recognised, newly in SGB II or with a closed case, and no active case anywhere for
    ``gap_days`` (``[exchange]`` in hub.toml); by district, oldest first (of ``reader``'s districts)."""
    config = home.load_config()
    settings, districts = config.exchange, vocabulary(home, config).districts
    day = today or dt.date.today()

    def gaps_of(pseudonym: str, records: Sequence[HeldRecord]) -> list[Gap]:
        gap = find_gap(pseudonym, list(records), settings.case_management_sources, settings.gap_days, day)
        return [_labelled(gap, districts)] if gap and _granted(gap, districts, reader) else []

    found = _per_person(home, day, gaps_of, "gaps", access, reader)
    return sorted(found, key=lambda g: (g.district, g.since, g.pseudonym))


def rechtskreis_transitions(
    home: HubHome, access: Access | None = None, today: dt.date | None = None, reader: Reader | None = None
) -> list[Transition]:
    """Every person's reported changes of residence status or legal framework, by district and
    date (``today``: the day whose consents count; of ``reader``'s districts)."""
    districts = vocabulary(home, home.load_config()).districts

    def transitions_labelled(pseudonym: str, records: Sequence[HeldRecord]) -> list[Transition]:
        found = transitions_of(pseudonym, records)
        return [_labelled(transition, districts) for transition in found if _granted(transition, districts, reader)]

    found = _per_person(home, today or dt.date.today(), transitions_labelled, "transitions", access, reader)
    return sorted(found, key=lambda t: (t.district, t.on, t.pseudonym))


Labelled = TypeVar("Labelled", Gap, Transition)


def _granted(finding: _AboutAPerson, districts: CodeList, reader: Reader | None) -> bool:
    """Is the finding (its district as stored) in one of the reader's districts?"""
    return reader is None or reader.districts is None or district_key(finding.district, districts) in reader.districts


def _labelled(finding: Labelled, districts: CodeList) -> Labelled:
    """The finding with its district's label, or ``unbekannt`` for one the list does not hold."""
    return replace(finding, district=districts.label_of(finding.district) or UNKNOWN_DISTRICT)


def _per_person(
    home: HubHome,
    today: dt.date,
    rule: Callable[[str, Sequence[HeldRecord]], Sequence[Finding]],
    worklist: str,
    access: Access | None,
    reader: Reader | None,
) -> list[Finding]:
    """Apply a per-person rule (pseudonym, held records → findings) to every person in the index
    the hub may hold for KIM on ``today``, and record the read of the persons it found (as the
    reader, ``<worklist>.list`` or ``.export``)."""
    config = home.load_config()
    bases, policy = source_bases(config), kim_policy(config, today)
    reader = reader or Reader()
    action = f"{worklist}.{'export' if reader.export else 'list'}"
    with open_sessions(home, config, reader.actor) as sessions:
        with sessions() as session:
            names = pseudonyms(session)
            persons = persons_with_records(session, minimum=1).items()
            held = ((person, [record for _pk, record in records]) for person, records in persons)
            found = [
                finding
                for person, records in held
                if held_for_kim(records, bases, policy)
                for finding in rule(names[person], records)
            ]
            objects = person_objects(session, [finding.pseudonym for finding in found])
        record_read(sessions, config, action, objects, access, {**(reader.context or {}), "findings": len(found)})
    return found
