"""Who may receive what: consent as the sources recorded it, evaluated strictly.

A record's facts go to another body only as far as that record's consent reaches: it must name
the recipient (or ``kim``, all KIM partners), be for a purpose the hub serves, be valid on the day
and not withdrawn — and then only the data categories it lists (none listed: the whole standard
summary, as the export format defines). A withdrawal anywhere in the person's records stops every
transfer about the person at once — the strictest applicable consent wins, and no consent means
no transfer. The foreigners authority is inbound only: it receives something only when the
operator has opened that route *and* the consent names it explicitly (``kim`` is not enough).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kim_hub.mappings.case_summary import CONSENT_CATEGORIES

ALL_PARTNERS = "kim"
AUTHORITY = "abh"
KIM_PURPOSES = ("kim",)  # the purpose an empty purpose field stands for


@dataclass(frozen=True)
class ConsentPolicy:
    """The hub's side of every consent decision: the day, the authority switch, the purposes served."""

    today: dt.date
    authority_route_open: bool = False
    purposes: tuple[str, ...] = KIM_PURPOSES


def withdrawn(consents: Iterable[Mapping[str, Any]], today: dt.date) -> bool:
    """Has the person withdrawn consent in any record (effective today or earlier)?"""
    return any(c.get("withdrawn_at") and dt.date.fromisoformat(c["withdrawn_at"]) <= today for c in consents)


def granted_categories(consent: Mapping[str, Any], recipient: str, policy: ConsentPolicy) -> frozenset[str]:
    """The data categories of the record that carries this consent which ``recipient`` may see."""
    recipients = set(consent.get("recipients") or ())
    if not recipients:
        return frozenset()  # no consent, no transfer
    if consent.get("purpose") and consent["purpose"].casefold() not in {p.casefold() for p in policy.purposes}:
        return frozenset()
    if consent.get("withdrawn_at") and dt.date.fromisoformat(consent["withdrawn_at"]) <= policy.today:
        return frozenset()
    if consent.get("valid_from") and dt.date.fromisoformat(consent["valid_from"]) > policy.today:
        return frozenset()
    if consent.get("valid_until") and dt.date.fromisoformat(consent["valid_until"]) < policy.today:
        return frozenset()
    if recipient == AUTHORITY:
        named = policy.authority_route_open and AUTHORITY in recipients
    else:
        named = recipient in recipients or ALL_PARTNERS in recipients
    if not named:
        return frozenset()
    return frozenset(consent.get("categories") or CONSENT_CATEGORIES)


def may_receive(consent: Mapping[str, Any], recipient: str, policy: ConsentPolicy) -> bool:
    """May ``recipient`` receive anything of the record that carries this consent?"""
    return bool(granted_categories(consent, recipient, policy))


def covers_kim(consent: Mapping[str, Any], policy: ConsentPolicy) -> bool:
    """Does this consent cover KIM case coordination: does it name ``kim`` (all KIM partners), for
    a purpose the hub serves, valid today and not withdrawn? A consent that names single bodies
    releases data to them, not to the coordination (``exchange.legal_basis``)."""
    return may_receive(consent, ALL_PARTNERS, policy)
