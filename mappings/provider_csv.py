"""One row of the standard provider export → a CaseSummary (shared/formats/provider-csv.md).

Every field is read independently and every problem is collected, so a sender learns all that is
wrong with a row from one receipt instead of fixing it one field per delivery. A row is a person:
it is refused only when it cannot be attributed (no usable record id) or carries nothing to link
on (no name, birth date, address or identifier); any other flaw is settled field by field by the field contract
(``mappings.contract``: the value left out, kept with a warning, or repaired) and noted on the
receipt. Consent is all or nothing: a consent with a field that cannot be read is not used at
all, because a consent without its end date or categories would share more than was agreed.
Reasons name the column and the kind of problem only, never the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from kim_hub.core.rows import FileBatch, RawRow, Rejection
from kim_hub.mappings.case_summary import (
    BirthDate,
    CaseData,
    CaseStatus,
    CaseSummary,
    Consent,
    Identity,
    PersonName,
    Rechtskreis,
    Referral,
    ReferralStatus,
)
from kim_hub.mappings.codelists import (
    consent_categories,
    literal_code,
    residence_status_code,
    sex_code,
)
from kim_hub.mappings.contract import FieldContract, Partial, Repaired, contract_for
from kim_hub.mappings.dates import parse_birth_date, parse_date
from kim_hub.mappings.row_reader import (
    WHITESPACE,
    BadFieldError,
    Problem,
    RowReader,
    parse_azr_number,
    parse_nationalities,
    parse_postcode,
    validation_rejections,
)
from kim_hub.mappings.vocabulary import (
    MAX_LIST_CELL_CHARS,
    GoalStatus,
    Vocabulary,
    consent_recipients,
    default_vocabulary,
    district_code,
    known_goals,
    plain_text,
)

RECORD_ID_MAX_LENGTH = 64  # CaseData.record_id
REFERRAL_TARGET_MAX_LENGTH = 32  # Referral.to
FORMULA_START = ("=", "+", "-", "@")
REFERRAL_STATUS_DE = {
    "offen": "open",
    "angenommen": "accepted",
    "erledigt": "done",
    "abgeschlossen": "done",
    "abgelehnt": "declined",
}


# --- field parsers: value in, normalised value out, BadFieldError on bad input ----------------


def _jobcenter_customer_no(value: str) -> str:
    return WHITESPACE.sub("", value).upper()


def _pairs(value: str, what: str, form: str) -> dict[str, str]:
    """``a:x|b:y`` → {"a": "x", "b": "y"}: the export's way of writing small maps in one cell."""
    pairs: dict[str, str] = {}
    for entry in (part.strip() for part in value.split("|")):
        if not entry:
            continue
        key, separator, status = (piece.strip() for piece in entry.partition(":"))
        if not separator or not key or not status:
            raise BadFieldError(f"each {what} must be written as {form}")
        if key.casefold() in {k.casefold() for k in pairs}:
            raise BadFieldError(f"a {what} is listed twice")
        pairs[key] = status
    return pairs


def _goals(value: str) -> dict[str, GoalStatus] | Partial[dict[str, GoalStatus]]:
    """``sprache:active|Arbeit:geplant`` → {"sprache": "active", "arbeit": "planned"}: areas and
    statuses from their code lists (``mappings.vocabulary``); a pair outside them is left out."""
    return known_goals(_pairs(plain_text(value, MAX_LIST_CELL_CHARS), "goal", "field:status"))


def _referrals(value: str) -> tuple[Referral, ...] | Repaired[tuple[Referral, ...]]:
    """``sprachkurs:open|awo:done`` → Referrals (German statuses such as ``offen`` accepted); a
    referral whose target is longer than a target can be is left out, the others kept."""
    pairs = _pairs(value, "referral", "target:status")
    referrals = tuple(
        Referral(
            to=target.lower(),
            status=literal_code(REFERRAL_STATUS_DE.get(status.casefold(), status), ReferralStatus, "referral status"),
        )
        for target, status in pairs.items()
        if len(target) <= REFERRAL_TARGET_MAX_LENGTH
    )
    if len(referrals) < len(pairs):
        return Repaired(referrals, f"a referral whose target is longer than {REFERRAL_TARGET_MAX_LENGTH} characters was left out")
    return referrals


def _reference(column: str) -> Callable[[str], str]:
    """A source's own reference (evidence of consent, purpose code): printable, never a formula."""

    def parse(value: str) -> str:
        if value.startswith(FORMULA_START) or not value.isprintable():
            raise BadFieldError("starts with =, +, - or @ (a spreadsheet formula) or holds control characters")
        if len(value) > 64:
            raise BadFieldError("longer than 64 characters")
        return value

    return parse


def _recipients(vocabulary: Vocabulary) -> Callable[[str], tuple[str, ...] | Partial[tuple[str, ...]]]:
    """``kim|Jobcenter`` → ("kim", "jobcenter"): only ``kim`` and the installation's bodies."""

    def parse(value: str) -> tuple[str, ...] | Partial[tuple[str, ...]]:
        parts = (part.strip().lower() for part in plain_text(value, MAX_LIST_CELL_CHARS).split("|"))
        return consent_recipients(parts, vocabulary)

    return parse


def _date(column: str) -> Callable[[str], dt.date]:
    return lambda value: parse_date(value, column)


def _birth_date(value: str) -> BirthDate | Repaired[BirthDate]:
    return parse_birth_date(value, "birth_date")


def _literal(literal: Any, code_list: str) -> Callable[[str], str | None]:
    return lambda value: literal_code(value, literal, code_list)


# --- the mapping -------------------------------------------------------------------------------


def map_provider_row(
    source: str, row: RawRow, contract: FieldContract | None = None, vocabulary: Vocabulary | None = None
) -> CaseSummary | list[Rejection]:
    """Map one row of a provider CSV to a CaseSummary (with the notes of its settled flaws), or
    return why the row is refused.

    ``source`` is the inbox name of the provider (``caritas``); record ids are unique only within
    it. Empty optional fields mean "unknown" and become None. District, goals and consent
    recipients are read against ``vocabulary`` (the installation's; default: the shipped lists).
    """
    reader = RowReader(row, contract or contract_for("provider-csv"))
    vocabulary = vocabulary or default_vocabulary()
    record_id = _record_id(reader)
    updated_at = reader.parse("updated_at", _date("updated_at"))
    name = PersonName(family_name=reader.text("family_name") or "", given_names=reader.text("given_names") or "")
    identity_fields: dict[str, Any] = {
        "birth_date": reader.parse("birth_date", _birth_date),
        "sex": reader.parse("sex", sex_code),
        "nationalities": reader.parse("nationality", parse_nationalities) or (),
        "birth_place": reader.text("birth_place"),
        "street": _street(reader),
        "postcode": reader.parse("postcode", parse_postcode),
        "azr_number": reader.parse("azr_number", parse_azr_number),
        "jobcenter_customer_no": reader.parse("jobcenter_customer_no", _jobcenter_customer_no),
    }
    reader.require_identity(name.family_name, name.given_names, identity_fields)
    case_fields: dict[str, Any] = {
        "rechtskreis": reader.parse("rechtskreis", _literal(Rechtskreis, "Rechtskreis")),
        "residence_status": reader.parse("residence_status", lambda v: residence_status_code(v, updated_at)),
        "case_status": reader.parse("case_status", _literal(CaseStatus, "case status")),
        "case_opened": reader.parse("case_opened", _date("case_opened")),
        "case_closed": reader.parse("case_closed", _date("case_closed")),
        "district": reader.parse("district", lambda v: district_code(v, vocabulary)),
        "goals": reader.parse("goals", _goals) or {},
        "referrals": reader.parse("referrals", _referrals) or (),
        "updated_at": updated_at,
    }
    opened, closed = case_fields["case_opened"], case_fields["case_closed"]
    if opened is not None and closed is not None and closed < opened:
        case_fields["case_closed"] = reader.settle("case_closed", Problem("case closed before it was opened"))
    consent = _consent(reader, vocabulary)
    if reader.rejections or record_id is None:
        return reader.rejections
    try:
        return CaseSummary(
            identity=Identity(name=name, **identity_fields),
            case=CaseData(source=source, record_id=record_id, consent=consent, **case_fields),
        ).with_notes(reader.notes)
    except ValidationError as error:
        validation_rejections(reader, error)
        return reader.rejections


def _street(reader: RowReader) -> str | None:
    """Street and house number, also when an export keeps the number in a column of its own."""
    street, number = reader.text("street"), reader.text("house_number")
    return " ".join(part for part in (street, number) if part) or None


def _record_id(reader: RowReader) -> str | None:
    """The provider's record id, or None (and the row refused) when it cannot serve as one."""
    record_id = reader.text("record_id")
    if record_id is None:
        reader.reject("record_id", "required field is empty")
    elif len(record_id) > RECORD_ID_MAX_LENGTH:
        reader.reject("record_id", f"longer than {RECORD_ID_MAX_LENGTH} characters")
    elif record_id.startswith(FORMULA_START) or not record_id.isprintable():
        # record ids go back out in clear (links CSV, receipts): nothing a spreadsheet would run
        reader.reject("record_id", "starts with =, +, - or @ (a spreadsheet formula) or holds control characters")
    else:
        return record_id
    return None


NO_CONSENT = Consent()
CONSENT_COLUMNS = (
    "consent_recipients",
    "consent_categories",
    "consent_purpose",
    "consent_valid_from",
    "consent_valid_until",
    "consent_withdrawn",
    "consent_evidence",
)


def _consent(reader: RowReader, vocabulary: Vocabulary) -> Consent:
    """The row's consent, or none at all when any of its fields could not be used: a consent
    missing its end or its categories would share more than the person agreed to. A recipient
    outside the vocabulary is only left out (noted before the count): without it the consent
    reaches fewer bodies, never more."""
    if not any(reader.text(column) for column in CONSENT_COLUMNS):
        return NO_CONSENT  # most rows: nothing to read (the model is frozen, so one serves them all)
    recipients = reader.parse("consent_recipients", _recipients(vocabulary)) or ()
    noted = len(reader.notes)
    consent = Consent(
        recipients=recipients,
        categories=reader.parse("consent_categories", consent_categories) or (),
        purpose=reader.parse("consent_purpose", _reference("consent_purpose")),
        valid_from=reader.parse("consent_valid_from", _date("consent_valid_from")),
        valid_until=reader.parse("consent_valid_until", _date("consent_valid_until")),
        withdrawn_at=reader.parse("consent_withdrawn", _date("consent_withdrawn")),
        evidence_ref=reader.parse("consent_evidence", _reference("consent_evidence")),
    )
    flawed = len(reader.notes) > noted
    if consent.valid_from and consent.valid_until and consent.valid_until < consent.valid_from:
        reader.note("consent_valid_until", "consent ends before it begins")
        flawed = True
    if flawed and consent != NO_CONSENT:
        reader.note("consent_recipients", "consent not used: one of its fields cannot be read; nothing is shared on it")
        return NO_CONSENT
    return consent


def map_provider_batch(source: str, batch: FileBatch) -> tuple[list[CaseSummary], list[Rejection]]:
    """Map every row of a batch; also reject record ids that occur in more than one row.

    A record id is the provider's key: two rows with the same id in one file cannot both be the
    current state, and choosing one silently could overwrite the newer case, so all are rejected.
    """
    summaries: list[CaseSummary] = []
    rejections: list[Rejection] = list(batch.rejections)
    rows_by_id: dict[str, list[int]] = {}
    for row in batch.rows:
        rows_by_id.setdefault(row.fields.get("record_id", "").strip(), []).append(row.row_number)
    for row in batch.rows:
        rows = rows_by_id.get(row.fields.get("record_id", "").strip(), [])
        if len(rows) > 1 and row.fields.get("record_id", "").strip():
            others = ", ".join(str(number) for number in rows if number != row.row_number)
            rejections.append(Rejection(row.file, row.row_number, "record_id", f"record id also used in row(s) {others}"))
            continue
        result = map_provider_row(source, row)
        if isinstance(result, CaseSummary):
            summaries.append(result)
        else:
            rejections.extend(result)
    return summaries, rejections
