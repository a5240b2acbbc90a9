"""The standard case summary: what every connector's mapping produces.

A summary is split in two on purpose. ``Identity`` holds everything that identifies a person; it
exists only in memory between the mapping and the pseudonymisation step, which turns it into keyed
encodings and drops it. ``CaseData`` holds the case facts that the hub stores and exchanges. Keeping
them in separate models makes "identity never leaves pseudonymisation in clear" a property of the
types rather than of discipline.

Every model here may hold a value of a person, so each is configured with
``hide_input_in_errors=True``: a validation error names the field and the rule, never the input
(pydantic would otherwise write ``input_value='…'`` into its message, and from there into a log,
a receipt or Prefect's database). The configuration is written out in each model, not shared,
so that pydantic's mypy plug-in still sees ``frozen``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kim_hub.core.rows import Note

# A record id that would identify the person (the authority's XML offers only the AZR number as
# a stable key) is written with this prefix by its mapping; pseudonymisation replaces it by a keyed
# token, so the clear number never becomes a stored record id.
KEYED_RECORD_ID_PREFIX = "keyed:"
# The case-data flag pseudonymisation sets on such a record: its stored id is the hub's token, which
# the source does not know, so nothing can be addressed to it.
HUB_KEYED_ID = "hub_keyed_id"
# A record id the hub keeps only encrypted (the job centre's Kundennummer, and every id of a source
# configured with ``encrypt_record_ids``) is written with this prefix (mappings.record_ids);
# pseudonymisation replaces it by a deterministic, reversible token, so the source's own id is never
# stored, yet summaries can still be addressed to the source by it.
SEALED_RECORD_ID_PREFIX = "sealed:"
RECORD_ID_MAX_LENGTH = 64  # as the source writes it; the sealed prefix may come on top

Sex = Literal["M", "F", "X", "U"]
Rechtskreis = Literal["AsylbLG", "SGB II", "SGB III", "SGB VIII", "SGB XII", "none"]
CaseStatus = Literal["intake", "assessment", "agreement", "active", "paused", "closed"]
DatePrecision = Literal["day", "month", "year"]


class BirthDate(BaseModel):
    """A birth date as registered, possibly partial.

    ``placeholder`` marks the registers' stand-ins for an unknown day (01.01.YYYY, 00.00.YYYY):
    such a date is weak evidence, neither a mismatch nor a strong match.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    year: int = Field(ge=1000, le=2100, description="four digits; years before 1900 are implausible and kept with a warning")
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    precision: DatePrecision
    placeholder: bool = False


class PersonName(BaseModel):
    """One spelling of a person's name (a record may carry variant spellings)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    family_name: str = ""
    given_names: str = ""


class Identity(BaseModel):
    """Identifying data of one record. Never stored, logged or returned by a task in clear."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    name: PersonName
    variant_names: tuple[PersonName, ...] = ()
    birth_date: BirthDate | None = None
    sex: Sex | None = None
    nationalities: tuple[str, ...] = Field(default=(), description="ISO 3166-1 alpha-3 codes; XXA stateless, XXX unclear")
    birth_place: str | None = None
    street: str | None = None
    postcode: str | None = None
    azr_number: str | None = Field(default=None, description="12-digit AZR number")
    jobcenter_customer_no: str | None = None
    household_no: str | None = Field(default=None, description="BG-Nummer: the job centre's household number")

    def __repr__(self) -> str:  # keep identity out of tracebacks and debug logs
        return "Identity(<redacted>)"

    __str__ = __repr__


ConsentCategory = Literal["identity", "residence", "benefits", "case", "referrals"]
CONSENT_CATEGORIES: tuple[ConsentCategory, ...] = ("identity", "residence", "benefits", "case", "referrals")
ReferralStatus = Literal["open", "accepted", "done", "declined"]


class Consent(BaseModel):
    """What the person agreed may be shared, as the source recorded it (§ 67b SGB X).

    ``categories`` empty means the whole standard summary: the standard export's consent columns
    name recipients only, and its format defines them as "may receive the summary". ``purpose``
    empty means the KIM integration management the export exists for.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    recipients: tuple[str, ...] = Field(default=(), description="kim, or bodies of the installation (mappings.vocabulary)")
    categories: tuple[ConsentCategory, ...] = ()
    purpose: str | None = Field(default=None, max_length=64)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    withdrawn_at: dt.date | None = None
    evidence_ref: str | None = Field(default=None, max_length=64, description="where the signed consent is kept at the source")


class Referral(BaseModel):
    """A referral the source made to another body or service (``sprachkurs``, ``awo``)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    to: str = Field(min_length=1, max_length=32)
    status: ReferralStatus


class CaseEvent(BaseModel):
    """A dated change the source reported: a residence-status message of the authority, a
    job-centre Abgang (left SGB II) or Zugang. Events build the Rechtskreis history; they are
    kept even when the record itself is later replaced."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    kind: str = Field(min_length=1, max_length=32, description="e.g. statusaenderung, wegzug, einbuergerung, abgang, zugang")
    on: dt.date
    residence_status: str | None = None
    rechtskreis: Rechtskreis | None = None


class CaseData(BaseModel):
    """The case facts of one record: stored and exchanged, never identifying on their own."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    source: str
    record_id: str = Field(min_length=1, max_length=RECORD_ID_MAX_LENGTH + len(SEALED_RECORD_ID_PREFIX))
    rechtskreis: Rechtskreis | None = None
    residence_status: str | None = None
    case_status: CaseStatus | None = None
    case_opened: dt.date | None = None
    case_closed: dt.date | None = None
    district: str | None = Field(default=None, description="a code of the installation's district list (mappings.vocabulary)")
    goals: dict[str, str] = Field(
        default_factory=dict, description="goal area code (codes/goals.csv) → status (codes/goal_status.csv)"
    )
    referrals: tuple[Referral, ...] = ()
    consent: Consent = Consent()
    updated_at: dt.date | None = None
    events: tuple[CaseEvent, ...] = ()

    @field_validator("record_id")
    @classmethod
    def _strip_record_id(cls, value: str) -> str:
        return value.strip()


class CaseSummary(BaseModel):
    """One source record in the hub's standard form: identity plus case data.

    ``notes`` say what the field contract did to the row's values on the way here (a value left
    out, kept with a warning, repaired). They are not part of the summary: not in its schema, its
    JSON, its content hash or its equality, and never exchanged; the ingest puts them on the
    receipt. They live in a slot of their own rather than a pydantic private attribute, which
    cost 2 µs to set up with every summary and about as much to read (a row's summary is made,
    copied and read several times on its way to the encoding)."""

    __slots__ = ("_row_notes",)
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    identity: Identity
    case: CaseData

    @property
    def notes(self) -> tuple[Note, ...]:
        notes: tuple[Note, ...] = getattr(self, "_row_notes", ())  # () when never given any
        return notes

    def with_notes(self, notes: Iterable[Note]) -> Self:
        """This summary, carrying the notes of its row."""
        object.__setattr__(self, "_row_notes", tuple(notes))  # past the frozen model's __setattr__: notes are no field
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (pydantic's), with this summary's notes."""
        return super().model_copy(update=update, deep=deep).with_notes(self.notes)
