"""The standard case summary one recipient may see about one person.

Built from the person's *other* records whose consent reaches the recipient, and addressed with
the recipient's own record id — never another body's id, never identity, never the hub's
pseudonym (which would let recipients join their data among themselves).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.consent import may_receive

ACTIVE = ("intake", "assessment", "agreement", "active", "paused")


@dataclass(frozen=True)
class HeldRecord:
    """What the hub holds of one record of the person, as the exchange needs it."""

    source: str
    record_id: str
    case: Mapping[str, Any]  # the stored case data (consent, status, dates, goals, events, …)
    key: int | None = None  # the hub's own record key, to know later what a summary was built from


def consenting(recipient: HeldRecord, others: Sequence[HeldRecord], today: dt.date, authority_route_open: bool) -> list[HeldRecord]:
    """The person's other records whose consent reaches the recipient's body."""
    return [
        r
        for r in others
        if r.source != recipient.source and may_receive(r.case.get("consent") or {}, recipient.source, today, authority_route_open)
    ]


def summary_for(recipient: HeldRecord, others: Sequence[HeldRecord], today: dt.date, authority_route_open: bool) -> dict | None:
    """The summary for ``recipient`` from the records that consent to it; None when none does."""
    shared = consenting(recipient, others, today, authority_route_open)
    if not shared:
        return None
    events = sorted(
        ({"on": e["on"], "kind": e["kind"], "body": r.source, **{k: e[k] for k in ("residence_status", "rechtskreis") if e.get(k)}}
         for r in shared for e in r.case.get("events") or ()),
        key=lambda e: (e["on"], e["body"], e["kind"]),
    )
    latest = max(shared, key=lambda r: r.case.get("updated_at") or "")
    return {
        "recipient": recipient.source,
        "record_id": recipient.record_id,
        "residence_status": latest.case.get("residence_status"),
        "rechtskreis": latest.case.get("rechtskreis"),
        "rechtskreis_history": events,
        "cases_elsewhere": sorted(
            (
                {
                    "body": r.source,
                    "status": r.case.get("case_status"),
                    "since": r.case.get("case_opened"),
                    "closed": r.case.get("case_closed"),
                    "goals": r.case.get("goals") or {},
                    "active": r.case.get("case_status") in ACTIVE,
                }
                for r in shared
            ),
            key=lambda c: (c["body"], c["since"] or ""),
        ),
        "based_on_consent_of": sorted({r.source for r in shared}),
    }


def content_hash(document: Mapping[str, Any]) -> str:
    """What identifies a summary's content: a re-run that would send the same sends nothing."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
