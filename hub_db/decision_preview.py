"""What a review decision would send, found by trying it: the decision applied in the caller's
transaction, the persons read as it leaves them, and everything rolled back by the caller.

The clustering decides where the records of a split go (and a merge may pull in more), so the
only faithful picture of the persons after a decision is the linker's own: the decision is taken
exactly as ``hub_db.review`` would take it, and the records of every person it touches are read
before and after. ``exchange.decision_effects`` then plans the push over both groupings and says
which bodies would get which document. The caller must roll its transaction back (the
``pipeline.review`` preview always does): nothing here is meant to stay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.decision_effects import Effect, decision_effects
from kim_hub.exchange.push_plan import missing_origins
from kim_hub.exchange.summary import HeldRecord
from kim_hub.hub_db.master_index import LinkPolicy
from kim_hub.hub_db.models import Link, Person
from kim_hub.hub_db.review import UNDO, decide, held_item, undo
from kim_hub.hub_db.transfers import existing_records, held_records, last_transfers


def preview(
    session: Session,
    item_id: int,
    decision: str,
    policy: LinkPolicy,
    consent: ConsentPolicy,
    held: Container[str] | None = None,
) -> list[Effect]:
    """The documents ``decision`` (a decision of ``hub_db.review.DECISIONS`` or ``UNDO``) on the
    item would cause at the next push (the caller rolls back: the decision is applied here)."""
    item = held_item(session, item_id, held)
    pair = (item.record_a, item.record_b)
    now = _links(session)
    if decision == UNDO:
        undo(session, item_id, policy, held)
    else:
        decide(session, item_id, decision, policy, held)
    then = _links(session)
    records = _touched(pair, now, then)
    kept = held_records(session, records)
    pseudonyms = dict(
        session.execute(select(Person.id, Person.pseudonym).where(Person.id.in_({now[r] for r in records if r in now}))).all()
    )
    before: dict[str, list[tuple[int, HeldRecord]]] = defaultdict(list)
    after: dict[int, list[tuple[int, HeldRecord]]] = defaultdict(list)
    for pk in sorted(records & kept.keys()):
        if pk in now:
            before[pseudonyms[now[pk]]].append((pk, kept[pk]))
        if pk in then:
            after[then[pk]].append((pk, kept[pk]))
    previous = last_transfers(session, records)
    gone = missing_origins(dict(enumerate(before.values())), previous) | missing_origins(after, previous)
    return decision_effects(before, list(after.values()), previous, existing_records(session, gone), consent)


def _links(session: Session) -> dict[int, int]:
    """Record → person, as the index holds it at this moment of the transaction."""
    session.flush()
    return dict(session.execute(select(Link.record_id, Link.person_id)).all())


def _touched(pair: tuple[int, int], now: dict[int, int], then: dict[int, int]) -> set[int]:
    """The item's records and every record of a person they belong to, before or after, until
    no person adds another: each person the decision changes is seen whole on both sides."""
    members_now, members_then = _members(now), _members(then)
    records, frontier = set(pair), set(pair)
    while frontier:
        found: set[int] = set()
        for pk in frontier:
            found |= members_now.get(now.get(pk, -1), set()) | members_then.get(then.get(pk, -1), set())
        frontier = found - records
        records |= frontier
    return records


def _members(links: dict[int, int]) -> dict[int, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    for record, person in links.items():
        members[person].add(record)
    return members
