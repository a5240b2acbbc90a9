"""One foreigners-authority message (flattened by connectors/abh_xml.py) → a CaseSummary.

The authority is the source of residence status and of variant spellings: it writes names as in
the passport and records other spellings of the same person (``abweichendeSchreibweise``), which
arrive here as ``identity.variant_names`` so linkage can match on any of them.

Record id. The schema offers no case number (Aktenzeichen); the only stable per-person key in it
is ``azrNummer`` (optional in the schema). The AZR number must never be stored in clear, but a
record id is stored and shown in clear (review lists, receipts), so the record id is a one-way
digest of it, ``abh_record_id``. The digest is *not* keyed — 12 digits can be enumerated — so it
only keeps the number out of sight; the AZR number itself goes into ``identity.azr_number`` and is
pseudonymised like every identifier. A message without an AZR number is rejected: without a key
its next message could not update the same record. Should the authority add a case number, switch
``abh_record_id`` to it (one function).

Message type → case facts: the authority runs no case, so ``case_status`` stays empty except when
the case leaves the city → ``closed`` on the message date: ``wegzug`` (moved away inside Germany),
and since schema 1.1 ``zustaendigkeitswechsel`` (another foreigners authority is responsible),
``ausreise`` (left Germany) and ``tod`` (died, reported by the registration office, § 72 AufenthV).
Every type but ``bestand`` becomes a dated event of its own kind, and so does every message the
file held about the same person before this one (``earlier_messages``: the connector keeps only a
person's latest message of a file, but what the earlier ones reported is history); what follows
for the exchange (a death stops every summary, exchange/summary.py) and for the worklists
(exchange/gaps.py, exchange/transitions.py) are rules of the hub, not facts of the message.

The message's time dates its event. The schema has checked its form, but an ``xs:dateTime`` may
still be one no date can hold (year 10000): the file's creation time (``erstellt``) is taken
instead, with a note — the message is from no later than its file, and the message is still
attributable. Only a message whose time and file time both cannot be read is refused.

``einbuergerung`` without a status element means ``EINGEBUERGERT``. No Rechtskreis is derived: that
is a rule of the hub (gap detection), not a fact the authority reported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.case_summary import KEYED_RECORD_ID_PREFIX, CaseData, CaseEvent, CaseSummary, Identity, PersonName
from kim_hub.mappings.codelists import UnknownCodeError, residence_status_code, sex_code
from kim_hub.mappings.contract import FieldContract, Repaired, contract_for
from kim_hub.mappings.dates import InvalidDateError, parse_birth_date, parse_date
from kim_hub.mappings.row_reader import (
    BadFieldError,
    RowReader,
    parse_azr_number,
    parse_nationalities,
    parse_postcode,
    validation_rejections,
)

# the case leaves the city: moved away (1.0), another authority responsible, left Germany, died (1.1)
CASE_LEAVES_CITY = frozenset({"wegzug", "zustaendigkeitswechsel", "ausreise", "tod"})
MESSAGE_TYPES = frozenset({"bestand", "statusaenderung", "zuzug", "einbuergerung", "berichtigung"}) | CASE_LEAVES_CITY
NATURALISED = "EINGEBUERGERT"


def abh_record_id(azr_number: str) -> str:
    """The authority's person key is the AZR number itself: marked for keyed replacement.

    Pseudonymisation turns it into ``ABH-`` + a keyed token (see KEYED_RECORD_ID_PREFIX): an
    unkeyed hash of a 12-digit number could be reversed by trying all numbers.
    """
    return f"{KEYED_RECORD_ID_PREFIX}abh:{azr_number}"


def _message_date(value: str) -> dt.date:
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise BadFieldError("not an ISO date-time") from None


def _message_date_or_file_date(file_time: str | None) -> Callable[[str], dt.date | Repaired[dt.date]]:
    """The message's date, else (a time no date can hold) the file's creation date, with a note."""

    def parse(value: str) -> dt.date | Repaired[dt.date]:
        try:
            return _message_date(value)
        except BadFieldError:
            if file_time is None:
                raise
        try:
            return Repaired(_message_date(file_time), "not a date-time the hub can read; the file's creation date used")
        except BadFieldError:
            raise BadFieldError("not an ISO date-time, nor is the file's creation time") from None

    return parse


def _message_type(value: str) -> str:
    if value not in MESSAGE_TYPES:
        raise BadFieldError("unknown message type")
    return value


def _variant_names(value: str) -> tuple[PersonName, ...]:
    """``[["family", "given"], …]`` → PersonNames; empty pairs are dropped, repeats kept once."""
    try:
        pairs = json.loads(value)
    except json.JSONDecodeError:
        raise BadFieldError("not a JSON list of [family name, given names] pairs") from None
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in pairs
    ):
        raise BadFieldError("not a JSON list of [family name, given names] pairs")
    names = (PersonName(family_name=family.strip(), given_names=given.strip()) for family, given in pairs)
    return tuple(dict.fromkeys(name for name in names if name.family_name or name.given_names))


def _earlier_events(value: str) -> tuple[tuple[CaseEvent, ...], int]:
    """``earlier_messages`` → the events they reported, and how many of them had a flaw: an
    unknown type or an unreadable time leaves the event out, an unknown status leaves it without
    a status (the connector wrote the list from messages the schema accepted, so both are rare)."""
    try:
        messages = json.loads(value)
    except json.JSONDecodeError:
        raise BadFieldError("not a JSON list of earlier messages") from None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise BadFieldError("not a JSON list of earlier messages")
    events: list[CaseEvent] = []
    flawed = 0
    for message in messages:
        kind = str(message.get("type") or "")
        if kind == "bestand":
            continue
        try:
            on = _message_date(str(message.get("time") or ""))
            _message_type(kind)
        except BadFieldError:
            flawed += 1
            continue
        status, status_flawed = _earlier_status(message, on)
        flawed += status_flawed
        events.append(CaseEvent(kind=kind, on=on, residence_status=status or (NATURALISED if kind == "einbuergerung" else None)))
    return tuple(events), flawed


def _earlier_status(message: dict[str, Any], on: dt.date) -> tuple[str | None, bool]:
    """The residence status an earlier message reported (valid on its ``gueltigAb`` or date), and
    whether it had to be left out."""
    try:
        valid_from = parse_date(str(message["valid_from"]), "residence_valid_from") if message.get("valid_from") else None
        return residence_status_code(str(message.get("status") or ""), valid_from or on), False
    except (InvalidDateError, UnknownCodeError):
        return None, True


def map_abh_row(source: str, row: RawRow, contract: FieldContract | None = None) -> CaseSummary | list[Rejection]:
    """Map one flattened message to a CaseSummary (with the notes of its settled flaws, see
    ``mappings.contract``), or return why the message is refused (no usable AZR number, type or
    time; the AZR number is also what it links on, so a message without a name still lands, though
    it links automatically only where the birth date agrees too: mappings/identifier_policy.toml)."""
    reader = RowReader(row, contract or contract_for("abh-xml"))
    azr_number = reader.parse("azr_number", parse_azr_number)
    if reader.text("azr_number") is None:
        reader.reject("azr_number", "message has no azrNummer, the only per-person key of the ABH schema")
    name = PersonName(family_name=reader.text("family_name") or "", given_names=reader.text("given_names") or "")
    message_type = reader.parse("message_type", _message_type)
    if reader.text("message_type") is None:
        reader.reject("message_type", "required field is empty")
    message_date = reader.parse("message_time", _message_date_or_file_date(reader.text("file_time")))
    if reader.text("message_time") is None:
        reader.reject("message_time", "required field is empty")

    variants = reader.parse("variant_names", _variant_names) or ()
    identity_fields: dict[str, Any] = {
        "variant_names": tuple(variant for variant in variants if variant != name),
        "birth_date": reader.parse("birth_date", lambda v: parse_birth_date(v, "birth_date")),
        "sex": reader.parse("sex", sex_code),  # m/w/d via sex.csv; x (passport X) → X
        "nationalities": reader.parse("nationality", parse_nationalities) or (),
        "birth_place": reader.text("birth_place"),
        "street": reader.text("street"),
        "postcode": reader.parse("postcode", parse_postcode),
        "azr_number": azr_number,
    }
    valid_from = reader.parse("residence_valid_from", lambda v: parse_date(v, "residence_valid_from"))
    residence_status = reader.parse("residence_status", lambda v: residence_status_code(v, valid_from or message_date))
    if residence_status is None and message_type == "einbuergerung":
        residence_status = NATURALISED
    leaves = message_type in CASE_LEAVES_CITY
    case_fields: dict[str, Any] = {
        "residence_status": residence_status,
        "case_status": "closed" if leaves else None,
        "case_closed": message_date if leaves else None,
        "updated_at": message_date,
    }
    events = list(_reported_events(reader))
    if message_type and message_type != "bestand" and message_date:
        events.append(CaseEvent(kind=message_type, on=message_date, residence_status=residence_status))
    if events:  # one event per kind and day (as stored): the latest message's
        case_fields["events"] = tuple({(event.kind, event.on): event for event in events}.values())
    if reader.rejections or azr_number is None:
        return reader.rejections

    try:
        return CaseSummary(
            identity=Identity(name=name, **identity_fields),
            case=CaseData(source=source, record_id=abh_record_id(azr_number), **case_fields),
        ).with_notes(reader.notes)
    except ValidationError as error:
        validation_rejections(reader, error)
        return reader.rejections


def _reported_events(reader: RowReader) -> tuple[CaseEvent, ...]:
    """The events of the messages this one superseded in its file; what cannot be read of them is
    a note on the message's row, never a refusal (the message itself is fine)."""
    parsed = reader.parse("earlier_messages", _earlier_events)
    if parsed is None:
        return ()
    events, flawed = parsed
    if flawed:
        reader.note(
            "earlier_messages",
            f"{flawed} earlier message(s) about the person in this file in part unreadable; that part left out",
        )
    return events
