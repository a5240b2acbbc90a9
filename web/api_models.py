"""What the providers' HTTP API takes and answers, as pydantic models: its OpenAPI document is
generated from them (``web.api``), so the document and the code cannot drift apart.

``CaseRecord`` is the record of docs/provider-api.openapi.yaml (the format a provider's own API
offers the ``rest`` connector), taken here as a JSON batch. The schema documents the fields; the
hub judges each record as it judges a CSV row: a flawed field costs that field with a note, a
record that cannot be attributed is rejected by row, and neither refuses the batch.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kim_hub.pipeline.receipts import ReceiptSummary


class CaseRecord(BaseModel):
    """One client/case in the standard provider export's fields (shared/formats/provider-csv.md)."""

    model_config = ConfigDict(extra="allow")

    record_id: str = Field(max_length=64, description="the provider's client/case id, unique within the provider")
    family_name: str
    given_names: str = Field(description="all given names, space separated")
    birth_date: str | None = Field(default=None, description="YYYY-MM-DD; partial YYYY, YYYY-MM or 00.00.YYYY")
    sex: Literal["M", "F", "X", "U"] | None = None
    nationality: str | None = Field(default=None, description="ISO 3166-1 alpha-3; several separated by |")
    birth_place: str | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = Field(default=None, pattern="^[0-9]{5}$")
    azr_number: str | None = Field(default=None, pattern="^[0-9]{12}$", description="only from a body the policy allows")
    jobcenter_customer_no: str | None = Field(default=None, description="only where a legal basis is named for the source")
    rechtskreis: Literal["AsylbLG", "SGB II", "SGB III", "SGB VIII", "SGB XII", "none"] | None = None
    residence_status: str | None = None
    case_status: Literal["intake", "assessment", "agreement", "active", "paused", "closed"] | None = None
    case_opened: str | None = Field(default=None, description="YYYY-MM-DD")
    case_closed: str | None = Field(default=None, description="YYYY-MM-DD")
    district: str | None = Field(default=None, max_length=64)
    goals: dict[str, str] | None = Field(default=None, description="goal area → status")
    consent_recipients: list[str] | None = Field(default=None, description="source names of this hub, or kim")
    referrals: dict[str, str] | None = Field(default=None, description="referral target → status")
    consent_categories: list[Literal["identity", "residence", "benefits", "case", "referrals"]] | None = None
    consent_purpose: str | None = Field(default=None, max_length=64)
    consent_valid_from: str | None = Field(default=None, description="YYYY-MM-DD")
    consent_valid_until: str | None = Field(default=None, description="YYYY-MM-DD")
    consent_withdrawn: str | None = Field(default=None, description="YYYY-MM-DD of the withdrawal")
    consent_evidence: str | None = Field(default=None, max_length=64)
    updated_at: str = Field(description="ISO date-time: when the provider last changed this record")


class DeliveryBatch(BaseModel):
    """A delivery as JSON: the records, judged one by one like the rows of a file."""

    records: list[CaseRecord] = Field(max_length=100_000)


class DeliveryUpload(BaseModel):
    """A delivery as a file: the source's export (CSV, XLSX, a JSON batch …) as its connector reads it."""

    file: bytes = Field(json_schema_extra={"format": "binary"})


class Finding(BaseModel):
    """A rejected row or a note: where and what kind of problem, never the value."""

    row: int | None
    field: str | None
    reason: str


class ReceiptBrief(BaseModel):
    """One delivery's receipt: its status and counts (``id`` addresses it)."""

    id: str = Field(pattern="^[0-9a-f]{16}$")
    status: str = Field(description="done | rejected | failed | duplicate | …, as on the receipt file")
    received_at: str
    rows_total: int
    accepted: int
    unchanged: int
    rejected: int
    noted: int


class Receipt(ReceiptBrief):
    """One delivery's receipt with its rejections and notes by row and field."""

    rejections: list[Finding]
    notes: list[Finding]


class ReceiptList(BaseModel):
    receipts: list[ReceiptBrief]


class Pending(BaseModel):
    """A delivery taken but not ingested yet: poll ``receipt_url``."""

    id: str = Field(pattern="^[0-9a-f]{16}$")
    status: Literal["pending"] = "pending"
    receipt_url: str


class CollectedSummary(BaseModel):
    """One document waiting for the body: a summary or a withdrawal, correction or erasure notice,
    as its outbox file would hold it (addressed by the record id the body knows)."""

    id: str = Field(pattern="^[0-9a-f]{32}$", description="stable until acknowledged: acknowledge it by this id")
    cursor: int = Field(ge=0, description="its place in the body's queue")
    kind: str = Field(description="summary | withdrawal | correction | erasure")
    document: dict[str, Any]


class SummaryPage(BaseModel):
    """The documents waiting after ``since``, oldest first; ``next_since``: the cursor to ask with
    next (the last document's, or the one given when none came; null when none was given and none
    came). An empty page means nothing more waits now."""

    documents: list[CollectedSummary]
    next_since: int | None


class Acknowledgement(BaseModel):
    """The ids of the documents the body has stored (at most 1000 at once)."""

    ids: list[str] = Field(max_length=1000)


class AcknowledgementResult(BaseModel):
    """What an acknowledgement did: the counts, and the ids refused (not held for this body, or not
    of the hub's form: never told apart)."""

    acknowledged: int
    already_acknowledged: int
    refused: list[str]


class Problem(BaseModel):
    """Why a call was refused (the kind of problem, never a value)."""

    detail: str


def brief_of(found: ReceiptSummary) -> ReceiptBrief:
    return ReceiptBrief(
        id=found.key,
        status=found.status,
        received_at=found.received_at,
        rows_total=found.rows_total,
        accepted=found.accepted,
        unchanged=found.unchanged,
        rejected=found.rejected,
        noted=found.noted,
    )


def receipt_of_summary(found: ReceiptSummary) -> Receipt:
    def findings(kind: str) -> list[Finding]:
        return [Finding(row=row, field=name, reason=reason) for k, row, name, reason in found.findings if k == kind]

    return Receipt(**brief_of(found).model_dump(), rejections=findings("rejected"), notes=findings("note"))
