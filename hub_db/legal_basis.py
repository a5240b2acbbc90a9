"""The legal-basis rule's inputs from the stored index: who is held for KIM, what only for linkage.

The rule itself is pure (``exchange.legal_basis``); this module fills its inputs. For the
listings only the consents count, so ``held_pseudonyms`` reads the consent of each linked record
and nothing else of it (``HeldPersons`` does the same for only the persons a page shows: the
review pages ask about a few hundred pseudonyms, not about every person of the index); the retention's ``linkage_only_records`` needs the whole case (a death,
the transfers a record takes part in) and reads the persons as the push does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.legal_basis import SourceBases, held_for_kim, linkage_only
from kim_hub.exchange.summary import HeldRecord
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.link_queue import waiting
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.hub_db.transfers import last_transfers, persons_with_records


def held_pseudonyms(session: Session, bases: SourceBases, policy: ConsentPolicy) -> set[str]:
    """Pseudonyms of the persons the hub may hold (and list) for KIM."""
    persons: dict[str, list[HeldRecord]] = defaultdict(list)
    for pseudonym, source, record_id, consent in session.execute(_consents()):
        persons[pseudonym].append(HeldRecord(source, record_id, {"consent": consent or {}}))
    return {pseudonym for pseudonym, records in persons.items() if held_for_kim(records, bases, policy)}


class HeldPersons:
    """``held_pseudonyms`` asked person by person: ``p in held`` and ``held.among(pseudonyms)``
    read the consents of only those persons (``among`` in chunks, one query each), and remember
    the answers for the session they were read in. A page of the review queue needs a few hundred
    answers; the whole index (100,000 persons) took seconds on every page.
    """

    def __init__(self, session: Session, bases: SourceBases, policy: ConsentPolicy) -> None:
        self._session, self._bases, self._policy = session, bases, policy
        self._known: dict[str, bool] = {}

    def among(self, pseudonyms: Iterable[str | None]) -> set[str]:
        """Those of ``pseudonyms`` whose person the hub may hold for KIM."""
        asked = {pseudonym for pseudonym in pseudonyms if pseudonym}
        unknown = sorted(pseudonym for pseudonym in asked if pseudonym not in self._known)  # not ``- keys()``: O(known)
        for chunk in chunked(unknown):
            persons: dict[str, list[HeldRecord]] = {pseudonym: [] for pseudonym in chunk}
            for pseudonym, source, record_id, consent in self._session.execute(_consents().where(Person.pseudonym.in_(chunk))):
                persons[pseudonym].append(HeldRecord(source, record_id, {"consent": consent or {}}))
            self._known.update(
                {p: bool(records) and held_for_kim(records, self._bases, self._policy) for p, records in persons.items()}
            )
        return {pseudonym for pseudonym in asked if self._known[pseudonym]}

    def __contains__(self, pseudonym: object) -> bool:
        if not isinstance(pseudonym, str):
            return False
        known = self._known.get(pseudonym)
        return known if known is not None else bool(self.among([pseudonym]))


def _consents() -> Select[tuple[str, str, str, Any]]:
    """Each linked record's person, source, id and consent (nothing else of it)."""
    return (
        select(Person.pseudonym, SourceRecord.source, SourceRecord.record_id, SourceRecord.case_data["consent"])
        .join(Link, Link.person_id == Person.id)
        .join(SourceRecord, SourceRecord.id == Link.record_id)
    )


def linkage_only_records(
    session: Session, bases: SourceBases, policy: ConsentPolicy, arrived_before: Mapping[str, dt.datetime]
) -> dict[str, list[int]]:
    """Per source, the keys of its records held only for linkage that arrived before its cutoff
    (``arrived_before``: source → instant). A record waiting for its link run is left for the
    next retention: it has not had the chance to join anyone yet."""
    if not bases.linkage_only:
        return {}
    owed_notice = {pk for pk, previous in last_transfers(session).items() if previous.kind == "summary"}
    queued = waiting(session)
    query = select(SourceRecord.id, SourceRecord.created_at).where(SourceRecord.source.in_(sorted(bases.linkage_only)))
    arrived: dict[int, dt.datetime] = dict(session.execute(query).all())
    found: dict[str, list[int]] = {}
    for records in persons_with_records(session, minimum=1).values():
        if not any(record.source in bases.linkage_only for _pk, record in records):
            continue
        for record in linkage_only([held for _pk, held in records], bases, policy, owed_notice):
            cutoff = arrived_before.get(record.source)
            key = record.key
            if cutoff is not None and key is not None and key not in queued and _utc(arrived[key]) < cutoff:
                found.setdefault(record.source, []).append(key)
    return {source: sorted(keys) for source, keys in sorted(found.items())}


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC instant (SQLite hands them back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = ["HeldPersons", "held_pseudonyms", "linkage_only_records"]
