"""A municipality's own connector, as a plug-in package: the Sozialamt's AsylbLG case export.

It is not part of the hub. It lives here, with a ``.dist-info`` beside it declaring its entry
points, to prove that a body whose system writes a format the hub has never seen plugs in without
any edit to hub code: a connector (group ``kim_hub.connectors``) for a row format of its own and
the mapping for that row format (group ``kim_hub.mappings``). The standard connector suite
(``tests/test_connector_contract.py``) and an end-to-end sync run (``tests/e2e/test_plugin.py``)
pick it up like an installed package. All data it writes is synthetic.

The export is JSON Lines, one case per line::

    {"az": "AS-2026-0001", "name": "Haddad, Samira", "geburtsdatum": "14.03.1988", "leistung": "AsylbLG"}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector
from kim_hub.core.rows import FileBatch, RawRow, Rejection
from kim_hub.mappings.case_summary import CaseData, CaseSummary, Identity, PersonName
from kim_hub.mappings.contract import FieldContract
from kim_hub.mappings.dates import parse_birth_date
from kim_hub.mappings.row_reader import RowReader

FIELDS = ("az", "name", "geburtsdatum", "leistung")


class SozialamtConnector(FileConnector):
    """Reads the Sozialamt's ``.jsonl`` export; a line that is not a JSON object is rejected."""

    name: ClassVar[str] = "sozialamt-jsonl"
    row_format: ClassVar[str] = "sozialamt-jsonl"
    file_suffixes: ClassVar[tuple[str, ...]] = (".jsonl",)

    @classmethod
    def read_file(cls, path: Path) -> FileBatch:
        data = path.read_bytes()
        batch = FileBatch(path=path, content_hash=hashlib.sha256(data).hexdigest())
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except ValueError:
                case = None
            if not isinstance(case, dict):
                batch.rejections.append(Rejection(path.name, number, None, "line is not a JSON object"))
                continue
            fields = {key: str(case.get(key) or "") for key in FIELDS}
            batch.rows.append(RawRow(file=path.name, row_number=number, fields=fields))
        return batch

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        path = folder / "sozialamt-example.jsonl"
        lines = []
        for person in persons:
            year, _, rest = person.birth_date.partition("-")
            month, _, day = rest.partition("-")
            case = {
                "az": f"AS-{person.record_id}",
                "name": f"{person.family_name}, {person.given_names}",
                "geburtsdatum": f"{day}.{month}.{year}",
            }
            lines.append(json.dumps({**case, "leistung": "AsylbLG"}, ensure_ascii=False))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def map_sozialamt_row(source: str, row: RawRow, contract: FieldContract | None = None) -> CaseSummary | list[Rejection]:
    """One case of the export → a CaseSummary; every problem named by field, never by value, and
    settled by the field contract (a format without a contract file gets the hub's defaults)."""
    reader = RowReader(row, contract)
    record_id = reader.text("az")
    if record_id is None:
        reader.reject("az", "required field is empty")
    family, _, given = (reader.text("name") or "").partition(",")
    if not family.strip() and not given.strip():
        reader.reject("name", "no name given")
    birth_date = reader.parse("geburtsdatum", lambda value: parse_birth_date(value, "geburtsdatum"))
    if reader.rejections or record_id is None:
        return reader.rejections
    name = PersonName(family_name=family.strip(), given_names=given.strip())
    return CaseSummary(
        identity=Identity(name=name, birth_date=birth_date),
        case=CaseData(source=source, record_id=record_id, rechtskreis="AsylbLG"),
    ).with_notes(reader.notes)
