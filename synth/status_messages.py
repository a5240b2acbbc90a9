"""The foreigners authority's status messages for a generated population: Rechtskreiswechsel.

A recognition reaches the other bodies as the authority's ``statusaenderung`` message
(shared/formats/abh-meldung.xsd) some weeks before anybody picks the person up — the moment chain
gaps open. This writes such messages for a share of the generated authority records that hold a
recognised status (protection or residence title), dated up to ``max_days_ago`` before the export
day, as ``inbox/abh/statusmeldungen-<day>.xml``, plus ``status_messages.csv`` (record_id, on,
residence_status) so tests know which record each message speaks for. Deterministic per seed.

Departures (schema 1.1, off by default): with ``departures`` > 0 a share of the *other* authority
records also get a message that the case leaves the city — ``ausreise`` (left Germany),
``zustaendigkeitswechsel`` (another authority responsible) or ``tod`` (died) — in the same file,
which then declares ``version="1.1"``; as the registration offices report these, they carry the
6-digit nationality code (``000475``) and no residence status. They are listed in
``departure_messages.csv`` (record_id, on, kind). They draw on a random stream of their own, so
the recognitions of a seed, the file and ``status_messages.csv`` stay exactly what they were.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from kim_hub.synth.data import NATIONALITY_DESTATIS

NAMESPACE = "urn:kim-hub:abh:1"
RECOGNISED_PREFIXES = ("AE_", "NE", "BLAUE_KARTE", "DAUERAUFENTHALT_EU")
SEX_CODES = {"M": "m", "F": "w", "X": "x"}
RECOGNITION = "statusaenderung"
DEPARTURE_KINDS = (("ausreise", 0.5), ("zustaendigkeitswechsel", 0.35), ("tod", 0.15))


@dataclass(frozen=True)
class StatusMessage:
    record_id: str  # the authority's CSV record the message speaks for
    on: dt.date
    residence_status: str  # "" for a departure
    kind: str = RECOGNITION  # or one of DEPARTURE_KINDS


def write_status_messages(
    outdir: Path, day: dt.date, seed: int = 0, share: float = 0.3, max_days_ago: int = 180, departures: float = 0.0
) -> list[StatusMessage]:
    """Messages for ``share`` of the recognised authority records and, with ``departures`` > 0, for
    that share of the others; returns what was written."""
    rng = random.Random(f"{seed}:status-messages")
    departure_rng = random.Random(f"{seed}:departures")  # a stream of its own: recognitions stay as they were
    inbox = outdir / "inbox" / "abh"
    messages, elements = [], []
    for path in sorted(inbox.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                status = row.get("residence_status") or ""
                if not row.get("azr_number"):
                    continue
                if status.startswith(RECOGNISED_PREFIXES) and rng.random() < share:
                    message = StatusMessage(row["record_id"], day - dt.timedelta(days=rng.randint(1, max_days_ago)), status)
                    message_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                elif departures and departure_rng.random() < departures:
                    message = _departure(row["record_id"], day, max_days_ago, departure_rng)
                    message_id = uuid.UUID(int=departure_rng.getrandbits(128), version=4)
                else:
                    continue
                messages.append(message)
                elements.append(_message(row, message, message_id))
    _write_file(inbox / f"statusmeldungen-{day.isoformat()}.xml", day, elements, any(m.kind != RECOGNITION for m in messages))
    recognitions = [(m.record_id, m.on.isoformat(), m.residence_status) for m in messages if m.kind == RECOGNITION]
    _write_list(outdir / "status_messages.csv", ("record_id", "on", "residence_status"), recognitions)
    if departures:
        departed = [(m.record_id, m.on.isoformat(), m.kind) for m in messages if m.kind != RECOGNITION]
        _write_list(outdir / "departure_messages.csv", ("record_id", "on", "kind"), departed)
    return messages


def _departure(record_id: str, day: dt.date, max_days_ago: int, rng: random.Random) -> StatusMessage:
    kinds = [name for name, _weight in DEPARTURE_KINDS]
    kind = rng.choices(kinds, [weight for _name, weight in DEPARTURE_KINDS])[0]
    return StatusMessage(record_id, day - dt.timedelta(days=rng.randint(1, max_days_ago)), "", kind)


def _write_file(path: Path, day: dt.date, elements: list[etree._Element], version_1_1: bool) -> None:
    root = etree.Element(f"{{{NAMESPACE}}}abhMeldungen", nsmap={None: NAMESPACE})
    root.set("erstellt", f"{day.isoformat()}T06:00:00")
    root.set("behoerde", "000000")
    root.set("anzahl", str(len(elements)))
    if version_1_1:  # a file of recognitions only stays a 1.0 file, byte for byte
        root.set("version", "1.1")
    root.extend(elements)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _write_list(path: Path, header: tuple[str, ...], rows: list[tuple[str, str, str]]) -> None:
    """Which record each message speaks for, as CSV: what tests compare the hub's findings with."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _message(row: dict[str, str], sent: StatusMessage, message_id: uuid.UUID) -> etree._Element:
    def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrib=attributes)
        element.text = text
        return element

    on = sent.on
    message = etree.Element(
        f"{{{NAMESPACE}}}meldung", nachrichtUUID=str(message_id), typ=sent.kind, zeitpunkt=f"{on.isoformat()}T09:00:00"
    )
    person = sub(message, "person")
    sub(person, "azrNummer", row["azr_number"])
    name = sub(person, "name")
    if row.get("family_name"):
        sub(name, "familienname", row["family_name"])
    if row.get("given_names"):
        sub(name, "vornamen", row["given_names"])
    birth = row.get("birth_date") or ""
    if len(birth) == 10:
        sub(sub(person, "geburtsdatum"), "datum", birth)
    elif len(birth) == 4:
        sub(sub(person, "geburtsdatum"), "jahr", birth)
    if row.get("sex") in SEX_CODES:
        sub(person, "geschlecht", code=SEX_CODES[row["sex"]])
    if sent.kind == RECOGNITION:
        sub(sub(message, "aufenthalt"), "status", code=sent.residence_status, gueltigAb=on.isoformat())
        return message
    for iso3 in (row.get("nationality") or "").split("|"):  # the registration offices' 6-digit form
        if iso3 in NATIONALITY_DESTATIS:
            sub(person, "staatsangehoerigkeit", code=NATIONALITY_DESTATIS[iso3].zfill(6))
    return message
