"""The standard case summary one recipient may see about one person.

Built from the person's *other* records whose consent reaches the recipient, and addressed with
the recipient's own record id — never another body's id, never identity, never the hub's
pseudonym (which would let recipients join their data among themselves). Each record's facts are
filtered field by field by the categories its consent grants:

    identity    that and where the person is known: the body, case since / closed, who referred
    residence   residence status and the authority's status changes
    benefits    Rechtskreis and job-centre entries / exits
    case        case status, active or not, goals (shown on the body's entry: needs identity;
                only goals of the code lists, ``mappings.vocabulary``: free text stored before
                the lists were closed never leaves the hub)
    referrals   open referrals (to whom, status)

A fact from a record whose consent lacks ``identity`` is shared without naming its body.

Nothing at all goes out about a person who withdrew consent in any record, or one of whose records
carries a death (the authority's ``tod``): ``stop_reason`` says which, and the push plan
(``exchange.push_plan``) tells each earlier recipient once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kim_hub.exchange.consent import ConsentPolicy, granted_categories, withdrawn
from kim_hub.mappings.vocabulary import stored_goals

ACTIVE = ("intake", "assessment", "agreement", "active", "paused")
OPEN_REFERRALS = ("open", "accepted")
UNKNOWN_DISTRICT = "unbekannt"
DEATH = "tod"  # the authority's message kind for a death reported by the registration office
# which category an event of the Rechtskreis history belongs to (unknown kinds are not shared);
# a death has none: it ends the summaries instead of appearing in one
EVENT_CATEGORY = {
    "statusaenderung": "residence",
    "einbuergerung": "residence",
    "abgang": "benefits",
    "zugang": "benefits",
    "zuzug": "identity",
    "wegzug": "identity",
    "zustaendigkeitswechsel": "identity",
    "ausreise": "identity",
}


@dataclass(frozen=True)
class HeldRecord:
    """What the hub holds of one record of the person, as the exchange needs it."""

    source: str
    record_id: str
    case: Mapping[str, Any]  # the stored case data (consent, status, dates, goals, events, …)
    key: int | None = None  # the hub's own record key, to know later what a summary was built from


@dataclass(frozen=True)
class SharedRecord:
    """One of the person's records as far as its consent reaches one recipient."""

    record: HeldRecord
    categories: frozenset[str]

    @property
    def body(self) -> str | None:
        """The record's body, or None when its consent does not allow naming it."""
        return self.record.source if "identity" in self.categories else None


def died(records: Sequence[HeldRecord]) -> bool:
    """Does any of the person's records carry a death?"""
    return any(event["kind"] == DEATH for record in records for event in record.case.get("events") or ())


def stop_reason(records: Sequence[HeldRecord], today: dt.date) -> str | None:
    """Why nothing at all may be sent about the person: ``death``, ``withdrawal`` or None.

    A death comes first: it is final whatever the consents say, and a withdrawal notice would
    tell the recipient the wrong reason."""
    if died(records):
        return "death"
    if withdrawn([record.case.get("consent") or {} for record in records], today):
        return "withdrawal"
    return None


def latest_district(records: Sequence[HeldRecord]) -> str:
    """The district of the person's most recently updated record that names one."""
    ordered = sorted(records, key=lambda r: r.case.get("updated_at") or "", reverse=True)
    return next((r.case["district"] for r in ordered if r.case.get("district")), UNKNOWN_DISTRICT)


def consenting(recipient: HeldRecord, others: Sequence[HeldRecord], policy: ConsentPolicy) -> list[SharedRecord]:
    """The person's other records whose consent reaches the recipient's body, with what it grants."""
    shared = []
    for record in others:
        if record.source == recipient.source:
            continue
        categories = granted_categories(record.case.get("consent") or {}, recipient.source, policy)
        if categories:
            shared.append(SharedRecord(record, categories))
    return shared


def summary_for(recipient: HeldRecord, shared: Sequence[SharedRecord]) -> dict[str, Any] | None:
    """The summary for ``recipient`` from what its consenting records grant; None when nothing is shareable."""
    residence = _latest(shared, "residence", "residence_status")
    rechtskreis = _latest(shared, "benefits", "rechtskreis")
    history = _history(shared)
    cases = _cases(shared)
    referrals = _referrals(shared)
    if not (residence or rechtskreis or history or cases or referrals):
        return None
    return {
        "recipient": recipient.source,
        "record_id": recipient.record_id,
        "residence_status": residence,
        "rechtskreis": rechtskreis,
        "rechtskreis_history": history,
        "cases_elsewhere": cases,
        "open_referrals": referrals,
        "categories": sorted(set().union(*(s.categories for s in shared))),
        "based_on_consent_of": sorted({s.body for s in shared if s.body}),
    }


def consent_receipt(shared: Sequence[SharedRecord]) -> list[dict[str, Any]]:
    """Which consents a transfer relied on (for the audit): body, categories, purpose, evidence."""
    receipts = []
    for s in sorted(shared, key=lambda s: (s.record.source, s.record.record_id)):
        consent = s.record.case.get("consent") or {}
        receipts.append(
            {
                "source": s.record.source,
                "categories": sorted(s.categories),
                "purpose": consent.get("purpose") or "kim",
                "evidence_ref": consent.get("evidence_ref"),
                "valid_until": consent.get("valid_until"),
            }
        )
    return receipts


def _latest(shared: Sequence[SharedRecord], category: str, field: str) -> str | None:
    granting = [s.record for s in shared if category in s.categories and s.record.case.get(field)]
    if not granting:
        return None
    latest: str | None = max(granting, key=lambda r: r.case.get("updated_at") or "").case[field]
    return latest


def _history(shared: Sequence[SharedRecord]) -> list[dict[str, Any]]:
    events = []
    for s in shared:
        for event in s.record.case.get("events") or ():
            if EVENT_CATEGORY.get(event["kind"]) not in s.categories:
                continue
            entry = {"on": event["on"], "kind": event["kind"]}
            if s.body:
                entry["body"] = s.body
            if event.get("residence_status") and "residence" in s.categories:
                entry["residence_status"] = event["residence_status"]
            if event.get("rechtskreis") and "benefits" in s.categories:
                entry["rechtskreis"] = event["rechtskreis"]
            events.append(entry)
    return sorted(events, key=lambda e: (e["on"], e.get("body") or "", e["kind"]))


def _cases(shared: Sequence[SharedRecord]) -> list[dict[str, Any]]:
    cases = []
    for s in shared:
        if not s.body:
            continue
        case = s.record.case
        entry: dict[str, Any] = {"body": s.body, "since": case.get("case_opened"), "closed": case.get("case_closed")}
        if "case" in s.categories:
            entry.update(
                status=case.get("case_status"), goals=stored_goals(case.get("goals")), active=case.get("case_status") in ACTIVE
            )
        cases.append(entry)
    return sorted(cases, key=lambda c: (c["body"], c["since"] or ""))


def _referrals(shared: Sequence[SharedRecord]) -> list[dict[str, Any]]:
    referrals = [
        {"to": referral["to"], "status": referral["status"], **({"by": s.body} if s.body else {})}
        for s in shared
        if "referrals" in s.categories
        for referral in s.record.case.get("referrals") or ()
        if referral["status"] in OPEN_REFERRALS
    ]
    return sorted(referrals, key=lambda r: (r["to"], r.get("by") or ""))


def content_hash(document: Mapping[str, Any]) -> str:
    """What identifies a summary's content: a re-run that would send the same sends nothing."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
