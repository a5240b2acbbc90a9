"""What the report and the state monitoring count, as plain facts: the reporting room's input types.

Storage fills them (``hub_db.report_queries``), the aggregation reads them (``reporting.model``,
``reporting.monitoring``) without a database. A record is seen through its case facts and the
*presence* of identity fields, never their values; persons only by pseudonym.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class EventFact:
    """A dated event of a record (status message, job-centre Abgang/Zugang)."""

    kind: str
    on: dt.date
    rechtskreis: str | None = None
    residence_status: str | None = None


@dataclass(frozen=True)
class RecordFact:
    """One stored record as the report sees it: case facts, its person, and identity *presence*."""

    source: str
    person: str | None  # pseudonym; None while the record is not linked yet
    link_status: str | None
    rechtskreis: str | None = None
    residence_status: str | None = None
    case_status: str | None = None
    case_opened: dt.date | None = None
    case_closed: dt.date | None = None
    district: str | None = None
    updated_at: dt.date | None = None
    sex: str | None = None
    birth_precision: str | None = None  # day | month | year; None: no birth date
    birth_placeholder: bool = False
    present: frozenset[str] = frozenset()  # identity fields the encoding carries (not their values)
    events: tuple[EventFact, ...] = ()


@dataclass(frozen=True)
class DeliveryFact:
    """Ledger counts of one source on one day of delivery."""

    source: str
    day: dt.date
    files: int
    rows: int
    accepted: int
    unchanged: int
    rejected: int


@dataclass(frozen=True)
class RejectionFact:
    """How many rejection receipts one source got for one field and reason (reasons carry no values)."""

    source: str
    field: str | None
    reason: str
    count: int


@dataclass(frozen=True)
class ReviewFact:
    """An open review item: sources and pseudonyms only, with the per-field evidence in words."""

    id: int
    score: float
    source_a: str
    person_a: str | None
    source_b: str
    person_b: str | None
    evidence: dict[str, str]


@dataclass(frozen=True)
class HubFacts:
    records: tuple[RecordFact, ...]
    deliveries: tuple[DeliveryFact, ...]
    rejections: tuple[RejectionFact, ...]
    reviews: tuple[ReviewFact, ...]  # only those a coordinator may see (``hub_db.review``)
    open_reviews: int
    # pseudonyms of the persons the hub may hold for KIM (``exchange.legal_basis``): the only ones
    # the report lists by pseudonym; None = no such restriction (facts built without a hub)
    held: frozenset[str] | None = None
