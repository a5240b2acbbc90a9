"""The coordinators' worklists: chain gaps and Rechtskreis transitions per person.

The rules are pure functions in ``exchange`` (``find_gap``, ``transitions_of``) applied to every
person the hub may hold for KIM (``exchange.legal_basis``: a consent naming kim, or a source whose
statute covers KIM) — a person known only from statutory exports for linkage is in no worklist;
persons appear by pseudonym only, districts by their label from the installation's list
(``pipeline.vocabulary``), never as a source wrote them. Each list is a read of person-level
data: one audit entry naming every person on it (``pipeline.audit``), written before it is
returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from kim_hub.core.access import Access
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


class _AboutAPerson(Protocol):
    @property
    def pseudonym(self) -> str: ...


Finding = TypeVar("Finding", bound=_AboutAPerson)


def chain_gaps(home: HubHome, today: dt.date | None = None, access: Access | None = None) -> list[Gap]:
    """Persons recognised, newly in SGB II or with a closed case, and no active case anywhere for
    ``gap_days`` (``[exchange]`` in hub.toml); by district, oldest first."""
    config = home.load_config()
    settings, districts = config.exchange, vocabulary(home, config).districts
    day = today or dt.date.today()

    def gaps_of(pseudonym: str, records: Sequence[HeldRecord]) -> list[Gap]:
        gap = find_gap(pseudonym, list(records), settings.case_management_sources, settings.gap_days, day)
        return [_labelled(gap, districts)] if gap else []

    found = _per_person(home, day, gaps_of, "gaps.list", access)
    return sorted(found, key=lambda g: (g.district, g.since, g.pseudonym))


def rechtskreis_transitions(home: HubHome, access: Access | None = None, today: dt.date | None = None) -> list[Transition]:
    """Every person's reported changes of residence status or legal framework, by district and
    date (``today``: the day whose consents count)."""
    districts = vocabulary(home, home.load_config()).districts

    def transitions_labelled(pseudonym: str, records: Sequence[HeldRecord]) -> list[Transition]:
        return [_labelled(transition, districts) for transition in transitions_of(pseudonym, records)]

    found = _per_person(home, today or dt.date.today(), transitions_labelled, "transitions.list", access)
    return sorted(found, key=lambda t: (t.district, t.on, t.pseudonym))


Labelled = TypeVar("Labelled", Gap, Transition)


def _labelled(finding: Labelled, districts: CodeList) -> Labelled:
    """The finding with its district's label, or ``unbekannt`` for one the list does not hold."""
    return replace(finding, district=districts.label_of(finding.district) or UNKNOWN_DISTRICT)


def _per_person(
    home: HubHome,
    today: dt.date,
    rule: Callable[[str, Sequence[HeldRecord]], Sequence[Finding]],
    action: str,
    access: Access | None,
) -> list[Finding]:
    """Apply a per-person rule (pseudonym, held records → findings) to every person in the index
    the hub may hold for KIM on ``today``, and record the read of the persons it found."""
    config = home.load_config()
    bases, policy = source_bases(config), kim_policy(config, today)
    with open_sessions(home, config) as sessions:
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
        record_read(sessions, config, action, objects, access, {"findings": len(found)})
    return found
