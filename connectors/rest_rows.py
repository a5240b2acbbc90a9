"""JSON case records → rows of the standard provider export, so ``map_provider_row`` reads them.

The API carries the fields of shared/formats/provider-csv.md as JSON. This module only flattens
JSON into the text the CSV would hold; what a value means stays the mapping's job:

* null → "" (unknown); numbers and booleans → their JSON text (``50667``, ``true``);
* lists → items joined with ``|`` (``["kim", "caritas"]`` → ``kim|caritas``);
* objects → ``key:value`` pairs joined with ``|`` (goals: ``{"sprache": "active"}`` → ``sprache:active``);
* ``updated_at`` as an ISO date-time with offset → its date in that offset, as the CSV's date.

Keys that are not canonical columns are dropped and listed, as the CSV reader does with unknown
headers. A bad item becomes Rejections (naming row and field, never a value), never an exception.

JSON may spell text that is not Unicode (``"\\ud800"``: a lone surrogate), which neither the
database nor a UTF-8 receipt can hold. Such a value costs that value, not the person: the field is
left out (read as unknown) and a warning names row and field. Only a record id that is not
Unicode refuses the row, since without its id the record cannot be attributed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kim_hub.core.rows import FileBatch, RawRow, Rejection

log = logging.getLogger(__name__)

NOT_UNICODE = "not Unicode text (a lone surrogate)"


class _NestedValueError(Exception):
    """A value nested deeper than the flat CSV form can hold."""


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise _NestedValueError


def is_unicode(text: str) -> bool:
    """Can this text be written as UTF-8? Not when it holds a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def field_text(value: Any) -> str:
    """The CSV text for one JSON value; raises _NestedValueError for lists of lists and the like."""
    if isinstance(value, list):
        return "|".join(_scalar_text(item) for item in value)
    if isinstance(value, dict):
        return "|".join(f"{key}:{_scalar_text(item)}" for key, item in value.items())
    return _scalar_text(value)


def instant(text: str) -> dt.datetime | None:
    """An ISO date-time as an aware datetime for ordering (no offset = read as UTC); None if not ISO."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _updated_at_text(text: str) -> str:
    """The date the provider's own clock showed: the CSV column holds a date, not an instant."""
    try:
        return dt.datetime.fromisoformat(text.strip()).date().isoformat()
    except ValueError:
        return text  # left for the mapping to reject with its own reason


def item_to_row(item: Any, file: str, row_number: int, columns: Collection[str]) -> RawRow | list[Rejection]:
    """One JSON item → a RawRow of canonical fields, or why it cannot be one."""
    if not isinstance(item, dict):
        return [Rejection(file, row_number, None, "item is not a JSON object")]
    fields: dict[str, str] = {}
    rejections: list[Rejection] = []
    for key, value in item.items():
        if key not in columns:
            continue
        try:
            text = field_text(value)
        except _NestedValueError:
            rejections.append(Rejection(file, row_number, key, "value is nested too deeply for this field"))
            continue
        if is_unicode(text):
            fields[key] = text
        elif key == "record_id":
            rejections.append(
                Rejection(file, row_number, key, f"value is {NOT_UNICODE}; a record without its id cannot be attributed")
            )
        else:
            log.warning("%s, row %d, field %r: value is %s; left out", file, row_number, key, NOT_UNICODE)
    if "updated_at" in fields:
        fields["updated_at"] = _updated_at_text(fields["updated_at"])
    if not fields.get("record_id", "").strip() and "record_id" not in {r.field for r in rejections}:
        rejections.append(Rejection(file, row_number, "record_id", "item has no record_id"))
    return rejections or RawRow(file=file, row_number=row_number, fields=fields)


@dataclass
class NewestUpdate:
    """The latest ``updated_at`` seen, kept in the provider's own spelling for the next request."""

    text: str | None = None
    _instant: dt.datetime | None = None

    def offer(self, value: Any) -> None:
        if not isinstance(value, str) or (when := instant(value)) is None:
            return
        if self._instant is None or when > self._instant:
            self.text, self._instant = value, when


def content_hash(items: Sequence[Any]) -> str:
    """SHA-256 of the items' canonical JSON: equal content, equal hash, whatever the page split.

    ``surrogatepass`` lets text that is not Unicode be hashed too (it is settled per field later)."""
    canonical = json.dumps(list(items), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def column_name(key: object) -> str:
    """An unknown key as the receipt lists it; text that is not Unicode is spelled out as escapes."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def build_batch(items: Sequence[Any], host: str, columns: Collection[str], since: str | None) -> tuple[FileBatch, str | None]:
    """All pulled items as one FileBatch, and the newest ``updated_at`` (or ``since`` if none is newer)."""
    file = f"api:{host}"
    batch = FileBatch(path=Path(f"rest://{host}/cases"), content_hash=content_hash(items))
    newest = NewestUpdate()
    if since:
        newest.offer(since)
        newest.text = newest.text or since  # an unreadable stored cursor is kept, not lost
    unknown: dict[str, None] = {}
    for row_number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            newest.offer(item.get("updated_at"))
            unknown.update(dict.fromkeys(column_name(key) for key in item if key not in columns))
        result = item_to_row(item, file, row_number, columns)
        if isinstance(result, RawRow):
            batch.rows.append(result)
        else:
            batch.rejections.extend(result)
    batch.unknown_columns.extend(unknown)
    return batch, newest.text
