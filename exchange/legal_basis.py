"""Whom the hub may hold for KIM, and which records it holds only for linkage.

Every source declares the legal basis it delivers under (``mappings.legal_bases``): ``consent``
(the charities), or a statute that covers KIM case coordination by itself, or one that covers
only linkage and transfer between the bodies it names (the job centre's export, the authority's
messages). From that:

* **Held for KIM** is a person with a record from a source whose statute covers KIM, or with a
  consent on some record that covers KIM (names ``kim``, for a purpose served, valid today) —
  unless a consent of the person was withdrawn, which ends what consent allowed at once, as it
  stops every transfer (``exchange.consent``). Only such persons appear in person-level listings:
  chain gaps, transitions, the review queue, the report's lists of pseudonyms.
* **Held only for linkage** are the records of a person not held for KIM that come from a
  statute covering linkage only, unless the exchange still needs them: as a recipient or an
  origin of a consented summary, or as a recipient owed a notice (its last document was a
  summary: the withdrawal or erasure notice must reach it first). Retention purges them after
  their source's ``linkage_only_days``. Records of consent sources are never purged by this rule:
  a withdrawal on them is what stops the person's transfers, and it must stay.

Pure: records are what the hub holds, persons are pseudonyms, the day is the policy's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from kim_hub.exchange.consent import ConsentPolicy, covers_kim, granted_categories, withdrawn
from kim_hub.exchange.summary import HeldRecord, consenting, stop_reason


@dataclass(frozen=True)
class SourceBases:
    """What the sources' declared legal bases allow, by source name (a source in neither set
    delivers under consent)."""

    covering: frozenset[str] = frozenset()  # a statute that covers KIM case coordination
    linkage_only: frozenset[str] = frozenset()  # a statute for linkage and transfer only


def held_for_kim(records: Sequence[HeldRecord], bases: SourceBases, policy: ConsentPolicy) -> bool:
    """May the hub hold this person for KIM case coordination, and list them?"""
    if any(record.source in bases.covering for record in records):
        return True
    consents = [record.case.get("consent") or {} for record in records]
    if withdrawn(consents, policy.today):
        return False
    return any(covers_kim(consent, policy) for consent in consents)


def linkage_only(
    records: Sequence[HeldRecord], bases: SourceBases, policy: ConsentPolicy, owed_notice: Collection[int] = ()
) -> list[HeldRecord]:
    """The person's records the hub holds only for linkage (see the module's docstring).

    ``owed_notice``: record keys whose last document was a summary (a notice is due before they go)."""
    if held_for_kim(records, bases, policy):
        return []
    stopped = stop_reason(records, policy.today) is not None
    return [
        record
        for record in records
        if record.source in bases.linkage_only
        and record.key not in owed_notice
        and (stopped or not _exchanged(record, records, policy))
    ]


def _exchanged(record: HeldRecord, records: Sequence[HeldRecord], policy: ConsentPolicy) -> bool:
    """Does a consented summary need the record: as its recipient, or as an origin of another's?"""
    if consenting(record, records, policy):
        return True
    consent = record.case.get("consent") or {}
    return any(granted_categories(consent, other.source, policy) for other in records if other.source != record.source)


__all__ = ["SourceBases", "held_for_kim", "linkage_only"]
