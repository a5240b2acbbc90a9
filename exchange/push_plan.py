"""Planning a push: which document each recipient record is due, as a pure function of held data.

Per person and recipient record, the summary the consent of the person's other records allows is
due only when its content changed since the last transfer, so a re-run plans nothing new. Notices
come before summaries:

* a recipient whose last summary drew on records that no longer belong to the person gets a
  *correction* when those records still exist (a split moved them to someone else), an *erasure*
  notice when they were erased;
* a withdrawal, or a consent that no longer covers anything, stops everything, and a recipient
  that had a summary is told once (*withdrawal*); a death the authority reported (``tod``) does
  the same with a notice of its own (``exchange.summary.stop_reason``).

Storage fills the inputs (``hub_db.transfers``) and writes what was delivered; delivery itself is
the pipeline's (``pipeline.push``). Nothing here reads a database or a file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.summary import HeldRecord, consent_receipt, consenting, content_hash, stop_reason, summary_for
from kim_hub.mappings.case_summary import HUB_KEYED_ID

NOTICES = {
    "correction": "correction: part of the summary received belonged to another person; delete it and use the next summary",
    "erasure": "erasure: part of the summary received was erased at the hub (retention or request); delete it and use the next summary",
    "withdrawal": "consent withdrawn: delete the data received",
    "death": "death: the person was reported deceased; no further summaries follow; delete the data received",
    "withdrawal-scope": "consent no longer covers this transfer (expired or narrowed): delete the data received",
}

PersonRecords = Mapping[int, Sequence[tuple[int, HeldRecord]]]  # person → (record key, held record)


@dataclass(frozen=True)
class PreviousTransfer:
    """The last document a recipient record was sent: its kind, content hash and source records."""

    kind: str
    content_hash: str
    origins: tuple[int, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One document for one recipient record, and what to record once it was delivered."""

    recipient_pk: int
    recipient: HeldRecord
    kind: str  # summary | correction | erasure | withdrawal (also for a death: NOTICES["death"])
    document: dict[str, Any]
    consents: list[dict[str, Any]]
    origins: list[int]


@dataclass
class PushPlan:
    """Every document due, notices first per recipient, and what was not due."""

    deliveries: list[Delivery] = field(default_factory=list)
    unchanged: int = 0  # summaries whose content was already sent
    without_consent: int = 0  # recipients of a person known elsewhere whose consent shares nothing

    def by_body(self) -> dict[str, list[Delivery]]:
        """The deliveries grouped by the body that receives them, in plan order."""
        grouped: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in self.deliveries:
            grouped[delivery.recipient.source].append(delivery)
        return dict(grouped)


def addressable(recipient: HeldRecord) -> bool:
    """Can anything be sent to this record? Not when its id is the hub's own token (the
    authority's messages): the source knows the record by no id the hub could address."""
    return not recipient.case.get(HUB_KEYED_ID)


def encodable(document: Mapping[str, Any]) -> bool:
    """Can the document travel at all? Outbox files and API bodies are UTF-8 JSON, and a value
    with no UTF-8 form (a lone surrogate, which a JSON escape from a source can carry into the
    hub) would fail its body's whole delivery; such a document is refused on its own instead."""
    try:
        json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def missing_origins(persons: PersonRecords, previous: Mapping[int, PreviousTransfer]) -> set[int]:
    """Records an earlier summary drew on that no longer belong to the recipient's person; storage
    tells which of them still exist (moved by a split) and which were erased."""
    missing: set[int] = set()
    for records in persons.values():
        held = {record.key for _pk, record in records}
        for pk, _recipient in records:
            earlier = previous.get(pk)
            if earlier is not None and earlier.kind == "summary":
                missing |= set(earlier.origins) - held
    return missing


def plan_deliveries(
    persons: PersonRecords,
    previous: Mapping[int, PreviousTransfer],
    existing: Collection[int],
    policy: ConsentPolicy,
) -> PushPlan:
    """Every document due, per person and recipient record, notices first.

    ``previous``: each recipient record's last transfer; ``existing``: which of
    ``missing_origins`` still exist."""
    plan = PushPlan()
    for records in persons.values():
        held = [record for _pk, record in records]
        stopped = stop_reason(held, policy.today)  # a key of NOTICES, or None
        for pk, recipient in records:
            if addressable(recipient):
                _plan_one(plan, pk, recipient, held, previous.get(pk), existing, stopped, policy)
    return plan


def _plan_one(
    plan: PushPlan,
    pk: int,
    recipient: HeldRecord,
    held: list[HeldRecord],
    previous: PreviousTransfer | None,
    existing: Collection[int],
    stopped: str | None,
    policy: ConsentPolicy,
) -> None:
    had_summary = previous is not None and previous.kind == "summary"
    noticed = False
    if previous is not None and had_summary and not set(previous.origins) <= {r.key for r in held}:
        gone = set(previous.origins) - {r.key for r in held}
        kind = "correction" if any(origin in existing for origin in gone) else "erasure"
        plan.deliveries.append(_notice(pk, recipient, kind, NOTICES[kind]))
        had_summary, noticed = False, True
    shared = [] if stopped else consenting(recipient, held, policy)
    summary = summary_for(recipient, shared) if shared else None
    if summary is None:
        if had_summary:  # consent gone or narrowed to nothing, or the person died: tell who had data
            plan.deliveries.append(_notice(pk, recipient, "withdrawal", NOTICES[stopped or "withdrawal-scope"]))
        elif len(held) > 1 and not noticed:
            plan.without_consent += 1
        return
    if previous is not None and had_summary and previous.content_hash == content_hash(summary):
        plan.unchanged += 1
        return
    origins = sorted(s.record.key for s in shared if s.record.key is not None)
    plan.deliveries.append(Delivery(pk, recipient, "summary", summary, consent_receipt(shared), origins))


def _notice(pk: int, recipient: HeldRecord, kind: str, text: str) -> Delivery:
    return Delivery(
        pk, recipient, kind, {"recipient": recipient.source, "record_id": recipient.record_id, "notice": text}, [], []
    )
