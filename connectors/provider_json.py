"""A JSON batch of case records (the ``CaseRecord`` of docs/provider-api.openapi.yaml) as a
delivered file, read into the rows of the standard provider export.

The providers' HTTP API takes a delivery as a file upload or as such a batch; the batch is
written into the source's drop path like any file (``pipeline.api_deliveries``) and read here, so
it runs through the same mapping, field contract, pseudonymisation, ledger and receipt as a CSV
file. The file is ``{"records": [CaseRecord, …]}`` (a bare list is taken too); row *n* of its
receipt is its *n*-th record. What a value means stays the mapping's job: this module only
flattens JSON into the text the CSV would hold (``connectors.rest_rows``). A file that is not
such a batch at all is rejected whole, naming the kind of problem, never its content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector, read_delivery
from kim_hub.connectors.column_map import provider_csv_column_map
from kim_hub.connectors.rest_rows import column_name, item_to_row
from kim_hub.core.rows import FileBatch, RawRow, Rejection

NOT_A_BATCH = 'not a JSON batch of case records ({"records": [...]}, UTF-8)'


def records_of(data: bytes) -> list[Any] | None:
    """The items of a JSON batch; None if it is none."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    items = parsed.get("records") if isinstance(parsed, dict) else parsed
    return items if isinstance(items, list) else None


class ProviderJsonConnector(FileConnector):
    """Reads ``.json`` batches of case records in the standard provider export's fields."""

    name: ClassVar[str] = "provider-json"
    row_format: ClassVar[str] = "provider-csv"
    file_suffixes: ClassVar[tuple[str, ...]] = (".json",)

    @classmethod
    def read_file(cls, path: Path) -> FileBatch:
        data, batch = read_delivery(Path(path))
        items = records_of(data)
        if items is None:
            batch.rejections.append(Rejection(path.name, None, None, NOT_A_BATCH))
            batch.rejected_whole = True
            return batch
        columns = provider_csv_column_map().canonical_columns
        unknown: dict[str, None] = {}
        for row_number, item in enumerate(items, start=1):
            if isinstance(item, dict):
                unknown.update(dict.fromkeys(column_name(key) for key in item if key not in columns))
            result = item_to_row(item, path.name, row_number, columns)
            if isinstance(result, RawRow):
                batch.rows.append(result)
            else:
                batch.rejections.extend(result)
        batch.unknown_columns.extend(unknown)
        return batch

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """A batch of these persons with the required fields and the birth date."""
        path = folder / "provider-example.json"
        records = [
            {
                "record_id": p.record_id,
                "family_name": p.family_name,
                "given_names": p.given_names,
                "birth_date": p.birth_date,
                "updated_at": "2026-11-01T09:00:00+01:00",
            }
            for p in persons
        ]
        path.write_text(json.dumps({"records": records}, ensure_ascii=False), encoding="utf-8")
        return path
