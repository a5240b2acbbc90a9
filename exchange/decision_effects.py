"""What a review decision would send: the exchange's documents a merge or split would cause, before
anyone decides it (the four-eyes rule of the review, ``pipeline.review``).

A decision changes who is one person; the exchange's own planning (``exchange.push_plan``) then
decides what each body is due. So the effects are not a second set of rules: the push is planned
twice over the same held records and the same last transfers, once as the persons are grouped now
and once as the decision would group them, and what the second plan adds is the decision's effect:
a *correction* to a body whose summary drew on a record that would move to someone else, a
*withdrawal* where nothing would be left to share, a new *summary* where the person would gain
another body's facts (a merge). Documents due either way (a withdrawn consent not yet pushed) are
no effect of the decision and are left out.

Storage fills both groupings (``hub_db.decision_preview``: the decision applied in a transaction
that is rolled back); nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.push_plan import Delivery, PreviousTransfer, plan_deliveries
from kim_hub.exchange.summary import HeldRecord, content_hash

Grouping = Sequence[Sequence[tuple[int, HeldRecord]]]  # persons, each as (record key, held record)
KINDS = ("correction", "erasure", "withdrawal", "summary")  # the order the effects are listed in


@dataclass(frozen=True)
class Effect:
    """One document a decision would cause: the body that would receive it, its kind (a
    ``push_plan`` delivery kind) and the pseudonym of the recipient's person as it is now."""

    body: str
    kind: str
    pseudonym: str


def decision_effects(
    now: Mapping[str, Sequence[tuple[int, HeldRecord]]],
    then: Grouping,
    previous: Mapping[int, PreviousTransfer],
    existing: Collection[int],
    policy: ConsentPolicy,
) -> list[Effect]:
    """The documents the grouping ``then`` would be due that the grouping ``now`` (pseudonym →
    its records) is not, one per body, kind and pseudonym, notices first.

    Both groupings hold the same records. ``previous``: each of their records' last transfer;
    ``existing``: which records an earlier summary drew on still exist (all of them, for a
    decision erases nothing)."""
    pseudonym_of = {pk: pseudonym for pseudonym, records in now.items() for pk, _record in records}
    before = _planned(list(now.values()), previous, existing, policy)
    after = _planned(then, previous, existing, policy)
    effects = {
        Effect(d.recipient.source, d.kind, pseudonym_of[d.recipient_pk])
        for key, d in after.items()
        if key not in before and d.recipient_pk in pseudonym_of
    }
    return sorted(effects, key=lambda e: (KINDS.index(e.kind) if e.kind in KINDS else len(KINDS), e.body, e.pseudonym))


def _planned(
    grouping: Grouping, previous: Mapping[int, PreviousTransfer], existing: Collection[int], policy: ConsentPolicy
) -> dict[tuple[int, str, str], Delivery]:
    """The push plan of a grouping, by recipient record, kind and content."""
    plan = plan_deliveries(dict(enumerate(grouping)), previous, existing, policy)
    return {(d.recipient_pk, d.kind, content_hash(d.document)): d for d in plan.deliveries}
