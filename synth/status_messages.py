"""The foreigners authority's status messages for a generated population: Rechtskreiswechsel.

A recognition reaches the other bodies as the authority's ``statusaenderung`` message
(shared/formats/abh-meldung.xsd) some weeks before anybody picks the person up — the moment chain
gaps open. This writes such messages for a share of the generated authority records that hold a
recognised status (protection or residence title), dated up to ``max_days_ago`` before the export
day, as ``inbox/abh/statusmeldungen-<day>.xml``, plus ``status_messages.csv`` (record_id, on,
residence_status) so tests know which record each message speaks for. Deterministic per seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

NAMESPACE = "urn:kim-hub:abh:1"
RECOGNISED_PREFIXES = ("AE_", "NE", "BLAUE_KARTE", "DAUERAUFENTHALT_EU")
SEX_CODES = {"M": "m", "F": "w", "X": "x"}


@dataclass(frozen=True)
class StatusMessage:
    record_id: str  # the authority's CSV record the message speaks for
    on: dt.date
    residence_status: str


def write_status_messages(
    outdir: Path, day: dt.date, seed: int = 0, share: float = 0.3, max_days_ago: int = 180
) -> list[StatusMessage]:
    """Messages for ``share`` of the recognised authority records; returns what was written."""
    rng = random.Random(f"{seed}:status-messages")
    inbox = outdir / "inbox" / "abh"
    messages, elements = [], []
    for path in sorted(inbox.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                status = row.get("residence_status") or ""
                if not (row.get("azr_number") and status.startswith(RECOGNISED_PREFIXES)) or rng.random() >= share:
                    continue
                on = day - dt.timedelta(days=rng.randint(1, max_days_ago))
                messages.append(StatusMessage(row["record_id"], on, status))
                elements.append(_message(row, on, status, uuid.UUID(int=rng.getrandbits(128), version=4)))
    root = etree.Element(f"{{{NAMESPACE}}}abhMeldungen", nsmap={None: NAMESPACE})
    root.set("erstellt", f"{day.isoformat()}T06:00:00")
    root.set("behoerde", "000000")
    root.set("anzahl", str(len(elements)))
    root.extend(elements)
    (inbox / f"statusmeldungen-{day.isoformat()}.xml").write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
    with (outdir / "status_messages.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("record_id", "on", "residence_status"))
        writer.writerows((m.record_id, m.on.isoformat(), m.residence_status) for m in messages)
    return messages


def _message(row: dict[str, str], on: dt.date, status: str, message_id: uuid.UUID) -> etree._Element:
    def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", **attributes)
        element.text = text
        return element

    message = etree.Element(
        f"{{{NAMESPACE}}}meldung", nachrichtUUID=str(message_id), typ="statusaenderung", zeitpunkt=f"{on.isoformat()}T09:00:00"
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
    sub(sub(message, "aufenthalt"), "status", code=status, gueltigAb=on.isoformat())
    return message
