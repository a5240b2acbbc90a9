"""One row of the job centre's export → a CaseSummary (shared/formats/jobcenter-export.md).

The job centre is one SGB II case per person: the Kundennummer is both the record id and an
identifier other sources may carry (``jobcenter_customer_no``); the BG-Nummer (Bedarfsgemeinschaft,
the benefit household) is kept as ``household_no`` because household members are the hardest
false matches. The export carries no residence status. Its ``Status`` is mapped onto the hub's
case status through ``mappings/codes/jobcenter_status.csv`` (data, so a new status is a line).

As for provider rows, every field problem of a row is collected and the row is rejected whole;
reasons name the field and the kind of problem, never the value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any, get_args

from pydantic import ValidationError

from kim_hub.core.errors import ConfigError
from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.case_summary import CaseData, CaseStatus, CaseSummary, Identity, PersonName
from kim_hub.mappings.codelists import UnknownCodeError, sex_code, spelling_key
from kim_hub.mappings.contract import FieldContract, contract_for
from kim_hub.mappings.dates import parse_birth_date, parse_date
from kim_hub.mappings.row_reader import (
    BadFieldError,
    Problem,
    RowReader,
    parse_azr_number,
    parse_nationalities,
    parse_postcode,
    validation_rejections,
)

RECHTSKREIS = "SGB II"
_CUSTOMER_NO = re.compile(r"\d{3}[A-Z]\d{6}")
_HOUSEHOLD_NO = re.compile(r"\d{5}//\d{7}")
WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def jobcenter_status_codes() -> dict[str, CaseStatus]:
    """Spelling key of a job-centre ``Status`` → the hub's case status (from jobcenter_status.csv)."""
    text = resources.files("kim_hub.mappings").joinpath("codes", "jobcenter_status.csv").read_text(encoding="utf-8-sig")
    allowed = set(get_args(CaseStatus))
    codes: dict[str, CaseStatus] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        value, status = (row.get("value") or "").strip(), (row.get("case_status") or "").strip()
        if status not in allowed:
            raise ConfigError("job-centre status code list: target is not one of the hub's case status codes")
        key = spelling_key(value)
        if not key or key in codes:
            raise ConfigError("job-centre status code list: empty or repeated value")
        codes[key] = status  # type: ignore[assignment]  # checked against CaseStatus above
    return codes


def _case_status(value: str) -> CaseStatus:
    found = jobcenter_status_codes().get(spelling_key(value))
    if found is None:
        raise UnknownCodeError("job-centre status")
    return found


def _customer_no(value: str) -> str:
    """``962d 104711`` → ``962D104711``; the pattern is 3 digits, one letter, 6 digits."""
    compact = WHITESPACE.sub("", value).upper()
    if not _CUSTOMER_NO.fullmatch(compact):
        raise BadFieldError("customer number must be 3 digits, one letter and 6 digits")
    return compact


def _household_no(value: str) -> str:
    compact = WHITESPACE.sub("", value)
    if not _HOUSEHOLD_NO.fullmatch(compact):
        raise BadFieldError("BG number must be 5 digits, '//' and 7 digits")
    return compact


def _date(field: str) -> Callable[[str], dt.date]:
    return lambda value: parse_date(value, field)


def map_jobcenter_row(source: str, row: RawRow, contract: FieldContract | None = None) -> CaseSummary | list[Rejection]:
    """Map one export row to a CaseSummary (with the notes of its settled flaws, see
    ``mappings.contract``), or return why the row is refused: no usable Kundennummer, or nothing to link on.

    Field names in rejections and notes are the canonical names of mappings/columns/jobcenter.toml.
    """
    reader = RowReader(row, contract or contract_for("jobcenter-export"))
    customer_no = reader.parse("customer_no", _customer_no)
    if reader.text("customer_no") is None:
        reader.reject("customer_no", "required field is empty")
    family_name, given_names = reader.text("family_name") or "", reader.text("given_names") or ""

    identity_fields: dict[str, Any] = {
        "birth_date": reader.parse("birth_date", lambda v: parse_birth_date(v, "birth_date")),
        "sex": reader.parse("sex", sex_code),
        "nationalities": reader.parse("nationality", parse_nationalities) or (),
        "street": reader.text("street"),
        "postcode": reader.parse("postcode", parse_postcode),
        "azr_number": reader.parse("azr_number", parse_azr_number),
        "household_no": reader.parse("household_no", _household_no),
    }
    reader.require_identity(family_name, given_names, identity_fields)
    opened: dt.date | None = reader.parse("benefits_start", _date("benefits_start"))
    closed: dt.date | None = reader.parse("benefits_end", _date("benefits_end"))
    if opened is not None and closed is not None and closed < opened:
        closed = reader.settle("benefits_end", Problem("benefits end before they start"))  # type: ignore[assignment]  # dropped: None
    case_fields: dict[str, Any] = {
        "rechtskreis": RECHTSKREIS,
        "case_status": reader.parse("benefit_status", _case_status),
        "case_opened": opened,
        "case_closed": closed,
        "updated_at": reader.parse("exported_at", _date("exported_at")),
    }
    if reader.rejections or customer_no is None:
        return reader.rejections

    try:
        return CaseSummary(
            identity=Identity(
                name=PersonName(family_name=family_name, given_names=given_names),
                jobcenter_customer_no=customer_no,
                **identity_fields,
            ),
            case=CaseData(source=source, record_id=customer_no, **case_fields),
        ).with_notes(reader.notes)
    except ValidationError as error:
        validation_rejections(reader, error)
        return reader.rejections
