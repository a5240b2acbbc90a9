"""Who may receive what: consent as the sources recorded it, evaluated strictly.

A record's facts go to another body only as far as that record's consent reaches: it must name
the recipient (or ``kim``, all KIM partners), be valid on the day and not withdrawn. A withdrawal
anywhere in the person's records stops every transfer about the person at once — the strictest
applicable consent wins, and no consent means no transfer. The foreigners authority is inbound
only: it receives something only when the operator has opened that route *and* the consent names
it explicitly (``kim`` is not enough).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

ALL_PARTNERS = "kim"
AUTHORITY = "abh"


def withdrawn(consents: Iterable[Mapping[str, Any]], today: dt.date) -> bool:
    """Has the person withdrawn consent in any record (effective today or earlier)?"""
    return any(c.get("withdrawn_at") and dt.date.fromisoformat(c["withdrawn_at"]) <= today for c in consents)


def may_receive(consent: Mapping[str, Any], recipient: str, today: dt.date, authority_route_open: bool = False) -> bool:
    """May ``recipient`` receive the facts of the record that carries this consent?"""
    recipients = set(consent.get("recipients") or ())
    if not recipients:
        return False  # no consent, no transfer
    if consent.get("withdrawn_at") and dt.date.fromisoformat(consent["withdrawn_at"]) <= today:
        return False
    if consent.get("valid_until") and dt.date.fromisoformat(consent["valid_until"]) < today:
        return False
    if recipient == AUTHORITY:
        return authority_route_open and AUTHORITY in recipients
    return recipient in recipients or ALL_PARTNERS in recipients
