"""Read the foreigners authority's XML status messages (shared/formats/abh-meldung.xsd).

One file holds ``anzahl`` messages (``meldung``); each becomes one RawRow of flat strings, so the
mapping (mappings/abh_xml.py) sees the same shape as for a CSV row. The file is trusted only as a
whole: it is parsed hardened (connectors/safe_xml.py), validated against the XSD shipped in
``mappings/schemas/``, and its ``anzahl`` must equal the number of messages. Any failure rejects
the file whole, with a reason that names a line and an element, never a value.

Versions. The shipped XSD is 1.1, which accepts every 1.0 file unchanged; 1.1 adds the message
types ``tod``, ``zustaendigkeitswechsel`` and ``ausreise``, 6-digit nationality codes (``000166``)
and an optional ``version`` attribute on the root. One schema reads both, so the ``version``
attribute is not needed to read a file and a 1.1 message type is accepted whatever the file
declares (a file is not refused whole for one attribute). What each type means for the case is the
mapping's business (mappings/abh_xml.py).

Within a valid file:

* a repeated ``nachrichtUUID`` is the same message delivered twice: the repetition is ignored
  (listed as superseded, not rejected);
* several messages about the same person (same ``azrNummer``, the only per-person key the schema
  offers) are collapsed: the latest ``zeitpunkt`` wins (document order breaks ties) and the
  others are reported in ``AbhFileBatch.superseded`` — history, not errors. What they reported
  stays history: the winner carries them in ``earlier_messages`` (a death followed by a
  correction in the same file is still a death).

Row numbers are the line on which the ``<meldung`` start tag stands (the XML declaration = 1),
which is what a person sees in an editor.

Flattened fields (all strings, "" = absent):
    message_uuid, message_type (one of the schema's Meldungstyp codes), message_time (xs:dateTime as
                    sent, except that the end of a day, ``T24:00:00``, is written as the next day's
                    ``T00:00:00``, which is the same instant)
    file_time       the file's ``erstellt`` as sent: the latest a message of the file can be from
    earlier_messages JSON list of the messages about the same person this one superseded in the
                    file, oldest first, each ``{"type", "time", "status", "valid_from"}`` (as in
                    message_type, message_time, residence_status, residence_valid_from); "" when none
    azr_number, family_name, given_names
    variant_names   JSON list of [family_name, given_names] pairs from ``abweichendeSchreibweise``,
                    e.g. ``[["MOHAMAD", "ALI"], ["Muhammad", "Ali"]]``; "" when there are none.
                    JSON because a name may contain any separator one could pick.
    birth_date      ``YYYY-MM-DD`` (datum), ``YYYY-MM`` (jahrMonat), ``YYYY`` (jahr), "" (unbekannt)
    birth_place, sex (m/w/d/x), nationality (Destatis codes as sent, 3 or 6 digits, joined by ``|``)
    street (strasse + hausnummer), postcode, town
    residence_status, residence_valid_from, residence_valid_until (``YYYY-MM-DD``)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape

from lxml import etree

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector
from kim_hub.connectors.counts import parse_count
from kim_hub.connectors.safe_xml import MAX_XML_BYTES, XmlRejectedError, hardened_parser, load_schema, parse_untrusted
from kim_hub.core.errors import BadInputError
from kim_hub.core.rows import FileBatch, RawRow, Rejection

NAMESPACE = "urn:kim-hub:abh:1"
ROOT_ELEMENT = "abhMeldungen"
_NS = {"a": NAMESPACE}
_VALIDATION_LOCK = threading.Lock()
_XS = "{http://www.w3.org/2001/XMLSchema}"
_XS_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_XS_YEAR_MONTH = re.compile(r"(\d{4}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_XS_YEAR = re.compile(r"(\d{4})(?:Z|[+-]\d{2}:\d{2})?")
_XS_END_OF_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})T24:00:00(?:\.0+)?((?:Z|[+-]\d{2}:\d{2})?)")
_SCHEMA_ERROR = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?")
_SCHEMA_ERROR_KINDS = (  # libxml2 error type name fragment → a reason for people
    ("PATTERN_VALID", "a value does not have the required form"),
    ("ENUMERATION_VALID", "a value is not one of the allowed codes"),
    ("DATATYPE_VALID", "a value is not of the required type"),
    ("ELT_1", "the root element is not declared by the schema"),
    ("COMPLEX_TYPE_4", "a required attribute is missing"),
    ("COMPLEX_TYPE_3_2", "an attribute is not allowed here"),
    ("COMPLEX_TYPE_2", "an element is missing, misplaced or not allowed here"),
)


@dataclass(frozen=True)
class SupersededMessage:
    """A valid message replaced by a later one about the same person in the same file."""

    file: str
    row: int
    superseded_by_row: int

    def describe(self) -> str:
        return f"{self.file}, row {self.row}: superseded by the later message in row {self.superseded_by_row}"


@dataclass
class AbhFileBatch(FileBatch):
    """A FileBatch plus the messages that were collapsed into a later one (not rejections)."""

    superseded: list[SupersededMessage] = field(default_factory=list)

    @property
    def superseded_rows(self) -> int:
        return len(self.superseded)


@dataclass(frozen=True)
class _Schema:
    xsd: etree.XMLSchema
    names: frozenset[str]  # element and attribute names the schema declares: safe to name in reasons


@lru_cache(maxsize=1)
def abh_schema() -> _Schema:
    """The XSD shipped as package data in ``mappings/schemas/abh-meldung.xsd``."""
    resource = resources.files("kim_hub.mappings").joinpath("schemas", "abh-meldung.xsd")
    with resources.as_file(resource) as path:
        xsd = load_schema(Path(path))
        document = etree.parse(str(path), hardened_parser())
    names = {str(node.get("name")) for node in document.iter(f"{_XS}element", f"{_XS}attribute") if node.get("name")}
    return _Schema(xsd, frozenset(names))


def _schema_reason(error: etree._LogEntry, declared: frozenset[str]) -> str:
    """The first schema error as a reason: kind, element and attribute name, never the value."""
    kind = next((text for key, text in _SCHEMA_ERROR_KINDS if key in error.type_name), "the schema is not met")
    where = ""
    if match := _SCHEMA_ERROR.match(error.message or ""):
        element, attribute = match[1], match[2]
        where = f" (element '{element}'" if element in declared else " (an element the schema does not declare"
        if attribute:
            where += f", attribute '{attribute}'" if attribute in declared else ", an undeclared attribute"
        where += ")"
    return f"file does not match the ABH schema: {kind}{where}"


def _text(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    return (parent.findtext(path, default="", namespaces=_NS) or "").strip()


def _attribute(parent: etree._Element | None, path: str, name: str) -> str:
    element = parent.find(path, _NS) if parent is not None else None
    return (element.get(name) or "").strip() if element is not None else ""


def _xs_date(value: str, pattern: re.Pattern[str] = _XS_DATE) -> str:
    """Drop an XSD time-zone suffix (``1990-05-01Z``); anything else is left for the mapping to judge."""
    match = pattern.fullmatch(value)
    return match[1] if match else value


def _xs_date_time(value: str) -> str:
    """xs:dateTime allows ``24:00:00`` for the end of a day, which Python's ISO reader refuses:
    it is the next day's ``00:00:00``. Anything else is left for the mapping to judge."""
    match = _XS_END_OF_DAY.fullmatch(value)
    if not match:
        return value
    try:
        next_day = dt.date.fromisoformat(match[1]) + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return value
    return f"{next_day.isoformat()}T00:00:00{match[2]}"


def _birth_date(element: etree._Element | None) -> str:
    """teilbekanntesDatum → the partial forms mappings.dates reads; ``unbekannt`` → ""."""
    if element is None:
        return ""
    for tag, pattern in (("datum", _XS_DATE), ("jahrMonat", _XS_YEAR_MONTH), ("jahr", _XS_YEAR)):
        child = element.find(f"a:{tag}", _NS)
        if child is not None:
            return _xs_date((child.text or "").strip(), pattern)
    return ""


def flatten_message(message: etree._Element, file_time: str = "") -> dict[str, str]:
    """One ``meldung`` → flat string fields (see the module docstring); ``file_time``: the
    file's ``erstellt``."""
    person = message.find("a:person", _NS)
    name = person.find("a:name", _NS) if person is not None else None
    variants = [
        [_text(variant, "a:familienname"), _text(variant, "a:vornamen")]
        for variant in (person.findall("a:abweichendeSchreibweise", _NS) if person is not None else [])
    ]
    address = person.find("a:anschrift", _NS) if person is not None else None
    street = " ".join(part for part in (_text(address, "a:strasse"), _text(address, "a:hausnummer")) if part)
    nationalities = person.findall("a:staatsangehoerigkeit", _NS) if person is not None else []
    return {
        "message_uuid": (message.get("nachrichtUUID") or "").strip(),
        "message_type": (message.get("typ") or "").strip(),
        "message_time": _xs_date_time((message.get("zeitpunkt") or "").strip()),
        "file_time": file_time,
        "azr_number": _text(person, "a:azrNummer"),
        "family_name": _text(name, "a:familienname"),
        "given_names": _text(name, "a:vornamen"),
        "variant_names": json.dumps(variants, ensure_ascii=False) if variants else "",
        "birth_date": _birth_date(person.find("a:geburtsdatum", _NS) if person is not None else None),
        "birth_place": _text(person, "a:geburtsort"),
        "sex": _attribute(person, "a:geschlecht", "code"),
        "nationality": "|".join((n.get("code") or "").strip() for n in nationalities),
        "street": street,
        "postcode": _text(address, "a:postleitzahl"),
        "town": _text(address, "a:ort"),
        "residence_status": _attribute(message, "a:aufenthalt/a:status", "code"),
        "residence_valid_from": _xs_date(_attribute(message, "a:aufenthalt/a:status", "gueltigAb")),
        "residence_valid_until": _xs_date(_attribute(message, "a:aufenthalt/a:status", "gueltigBis")),
        "earlier_messages": "",
    }


def _message_time(value: str) -> dt.datetime:
    """Sort key for "latest message wins": UTC for zoned times, as written for local ones."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return dt.datetime.min
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _validated_messages(data: bytes, max_bytes: int) -> tuple[list[etree._Element], str]:
    """The ``meldung`` elements of a file that passed every whole-file check, and its ``erstellt``;
    XmlRejectedError otherwise."""
    tree = parse_untrusted(data, max_bytes)
    root = tree.getroot()
    if etree.QName(root).namespace != NAMESPACE:
        raise XmlRejectedError(f"root element is not in the namespace {NAMESPACE}", root.sourceline)
    if etree.QName(root).localname != ROOT_ELEMENT:
        raise XmlRejectedError(f"root element is not {ROOT_ELEMENT}", root.sourceline)
    schema = abh_schema()
    with _VALIDATION_LOCK:  # the schema's error log is shared state; tasks may run in threads
        valid = schema.xsd.validate(tree)
        first = None if valid else schema.xsd.error_log[0]
    if first is not None:
        raise XmlRejectedError(_schema_reason(first, schema.names), first.line or None)
    messages = root.findall("a:meldung", _NS)
    announced = parse_count(root.get("anzahl", ""))
    if announced is None:
        raise XmlRejectedError("anzahl is not a plausible message count", root.sourceline)
    if announced != len(messages):
        raise XmlRejectedError(f"anzahl announces {announced} messages but the file holds {len(messages)}: truncated or damaged")
    return messages, _xs_date_time((root.get("erstellt") or "").strip())


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_abh_xml(path: Path, max_bytes: int = MAX_XML_BYTES) -> AbhFileBatch:
    """Read one delivered message file; never raises for bad content, only for an unreadable file."""
    file = path.name
    try:
        too_large = path.stat().st_size > max_bytes
        data = b"" if too_large else path.read_bytes()
        content_hash = _hash_file(path) if too_large else hashlib.sha256(data).hexdigest()
    except OSError as exc:
        raise BadInputError(f"{file}: file cannot be read ({exc.__class__.__name__})") from exc
    batch = AbhFileBatch(path=path, content_hash=content_hash)
    try:
        if too_large:
            raise XmlRejectedError(f"file is larger than the limit of {max_bytes} bytes")
        messages, file_time = _validated_messages(data, max_bytes)
    except XmlRejectedError as rejected:
        batch.rejections.append(Rejection(file, rejected.line, None, rejected.reason))
        batch.rejected_whole = True
        return batch

    rows: list[RawRow] = []
    first_row_of_uuid: dict[str, int] = {}
    for message in messages:
        row = RawRow(file=file, row_number=message.sourceline or 0, fields=flatten_message(message, file_time))
        uuid = row.fields["message_uuid"]
        if uuid in first_row_of_uuid:  # the same message delivered twice: ignored, noted on the receipt
            batch.superseded.append(SupersededMessage(file, row.row_number, first_row_of_uuid[uuid]))
            continue
        first_row_of_uuid[uuid] = row.row_number
        rows.append(row)
    batch.rows.extend(_latest_per_person(rows, batch.superseded))
    return batch


def _latest_per_person(rows: list[RawRow], superseded: list[SupersededMessage]) -> list[RawRow]:
    """Keep the latest message per ``azr_number`` (document order on ties); note the others and
    hand what they reported to the one kept (``earlier_messages``, oldest first).

    Messages without an AZR number are kept as they are: the mapping rejects them (no key).
    """
    ranked = [(_message_time(row.fields["message_time"]), position) for position, row in enumerate(rows)]
    latest: dict[str, int] = {}
    for position, row in enumerate(rows):
        key = row.fields["azr_number"]
        if key and (key not in latest or ranked[position] > ranked[latest[key]]):
            latest[key] = position
    earlier: dict[int, list[int]] = {}
    kept: list[int] = []
    for position, row in enumerate(rows):
        key = row.fields["azr_number"]
        winner = latest[key] if key else position
        if winner == position:
            kept.append(position)
        else:
            superseded.append(SupersededMessage(row.file, row.row_number, rows[winner].row_number))
            earlier.setdefault(winner, []).append(position)
    return [_with_earlier(rows[p], [rows[e] for e in sorted(earlier.get(p, ()), key=ranked.__getitem__)]) for p in kept]


def _with_earlier(row: RawRow, earlier: list[RawRow]) -> RawRow:
    """``row`` carrying the messages it superseded (see ``earlier_messages``)."""
    if not earlier:
        return row
    reported = [
        {
            "type": e.fields["message_type"],
            "time": e.fields["message_time"],
            "status": e.fields["residence_status"],
            "valid_from": e.fields["residence_valid_from"],
        }
        for e in earlier
    ]
    return RawRow(row.file, row.row_number, {**row.fields, "earlier_messages": json.dumps(reported, ensure_ascii=False)})


class AbhXmlConnector(FileConnector):
    """Connector for the foreigners authority's message files dropped into ``inbox/abh/``."""

    name: ClassVar[str] = "abh-xml"
    row_format: ClassVar[str] = "abh-xml"
    file_suffixes: ClassVar[tuple[str, ...]] = (".xml",)

    @classmethod
    def read_file(cls, path: Path, max_bytes: int = MAX_XML_BYTES) -> AbhFileBatch:
        """Read one delivered file; see ``read_abh_xml``."""
        return read_abh_xml(Path(path), max_bytes)

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """A file of ``bestand`` messages; AZR numbers are made up from the position (the schema
        has no other per-person key, so the record id cannot be chosen)."""
        messages = "".join(
            f'<meldung nachrichtUUID="00000000-0000-4000-8000-{number:012d}" typ="bestand" zeitpunkt="2026-11-24T22:00:00">'
            f"<person><azrNummer>{900000000000 + number}</azrNummer><name><familienname>{escape(p.family_name)}</familienname>"
            f"<vornamen>{escape(p.given_names)}</vornamen></name><geburtsdatum><datum>{escape(p.birth_date)}</datum></geburtsdatum>"
            "</person></meldung>\n"
            for number, p in enumerate(persons, start=1)
        )
        document = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<abhMeldungen xmlns="{NAMESPACE}" erstellt="2026-11-24T23:00:00" behoerde="000000" anzahl="{len(persons)}">\n'
            f"{messages}</abhMeldungen>\n"
        )
        path = folder / "abh-example.xml"
        path.write_text(document, encoding="utf-8")
        return path
