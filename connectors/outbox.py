"""The file sink: summaries and notices for a body that collects them from a shared folder.

Each document lands as ``outbox/<body>/summaries/<record_id>.<kind>.json`` (the newest of each
kind per record: a re-delivery overwrites, never duplicates) and every delivery as one CSV for
systems that import tables, ``summaries-<digest>.csv``. Both are written atomically. The CSV is
named by its content, so a run repeated after a crash rewrites the same file instead of adding a
second copy. Cells a spreadsheet would run as formulas are defused.

A document may name its file otherwise (``FILE_ID``, never written into the files): a body whose
record ids the hub keeps encrypted finds its own id inside the document and the table, while the
file name carries only the hub's token of it, so a listing of the folder (a share's index, a
backup catalogue, the log of the job that collects it) shows no Kundennummer.

The folder is the body's as much as the hub's: whatever the sink finds there may have been
planted. So the folder is opened without following symlinks and every entry is checked before it
is touched (``connectors.outbox_folder``); an entry that is not a plain file, or a table the hub
did not write, is left alone and counted in ``skipped`` by kind. Every document is encoded before
the folder is touched, so a document that cannot be written fails the delivery before any file
changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kim_hub.connectors.json_documents import document_bytes
from kim_hub.connectors.outbox_folder import TEMPORARY_PREFIX, NotAFolderError, OutboxFolder
from kim_hub.connectors.receipts import safe_file_name
from kim_hub.core.cells import spreadsheet_safe

log = logging.getLogger(__name__)

KINDS = ("summary", "withdrawal", "correction", "erasure")
CSV_COLUMNS = (
    "kind",
    "record_id",
    "residence_status",
    "rechtskreis",
    "rechtskreis_history",
    "cases_elsewhere",
    "open_referrals",
    "categories",
    "notice",
)
TABLE, DOCUMENT, LEFTOVER = "a summaries table", "a document", "a temporary file"  # roles, for warnings
MALFORMED = "malformed CSV"
FILE_ID = "file_id"  # a document's file name stem when it is not its record_id; not written out


class OutboxSink:
    """Writes documents for one body into its outbox folder.

    ``root`` is the folder the hub owns above it (the home); everything below it is opened
    without following a symlink. ``skipped`` counts, by kind, the entries left alone so far."""

    def __init__(self, folder: Path, root: Path | None = None, body: str | None = None) -> None:
        self.folder = folder
        self.root = root if root is not None else folder.parent
        self.body = body or folder.parent.name
        self.skipped: Counter[str] = Counter()

    def push(self, documents: Sequence[Mapping[str, Any]]) -> int:
        """Write every document as JSON and all of them as one CSV; returns how many were written.

        A notice supersedes the summary it is about: a summary not yet collected is taken back
        (its JSON and its rows in earlier CSVs), so nobody collects what they must delete."""
        if not documents:
            return 0
        files = _files(documents)  # encoded first: a document that cannot be written changes nothing
        with OutboxFolder.made(self.root, self.folder, self.body, self.skipped) as folder:
            for name in folder.names():  # a write a killed push left half done (pushes hold a lock)
                if name.startswith(TEMPORARY_PREFIX):
                    folder.remove(name, LEFTOVER)
            _remove(folder, {_target(d) for d in documents if d["kind"] != "summary"}, kinds={"summary"})
            for name, data in files:
                folder.write(name, data, TABLE if name.endswith(".csv") else DOCUMENT)
        return len(documents)

    def _existing_folder(self) -> OutboxFolder | None:
        """The body's outbox folder as it is, or None when there is none, or when a non-folder (a
        symlink planted in its place) stands there: reported and left alone, since it holds
        nothing the hub wrote."""
        try:
            return OutboxFolder.existing(self.root, self.folder, self.body, self.skipped)
        except NotAFolderError as error:
            self.skipped[error.kind] += 1
            log.warning("outbox of %s: the folder is a %s; left as it is", self.body, error.kind)
            return None

    def forget(self, record_id: str, file_id: str | None = None) -> int:
        """Remove everything addressed to an erased record (its JSON files, named by ``file_id``
        when that is not ``record_id``, and its CSV rows).

        A folder that is not one (a symlink planted in its place) holds nothing the hub wrote
        there, so there is nothing to take back: it is reported and left alone."""
        opened = self._existing_folder()
        if opened is None:
            return 0
        with opened as folder:
            return _remove(folder, {(file_id or record_id, record_id)}, kinds=None)

    def rename(self, renamed: Mapping[str, str]) -> int:
        """Give the documents named by old file ids (old → new) their new names, e.g. after the
        hub's token of a record id changed with its key; returns how many were renamed. What is
        not a plain file is left alone; a folder that is not one holds nothing of the hub's."""
        opened = self._existing_folder()
        if opened is None:
            return 0
        moved = 0
        with opened as folder:
            for old, new in renamed.items():
                for kind in KINDS:
                    name = f"{safe_file_name(old)}.{kind}.json"
                    data = folder.read_bytes(name, DOCUMENT)  # None when there is none (or not a plain file)
                    if data is not None and folder.write(f"{safe_file_name(new)}.{kind}.json", data, DOCUMENT):
                        folder.remove(name, DOCUMENT)
                        moved += 1
        return moved

    def addressed_records(self) -> set[str]:
        """The record ids the documents in the outbox are addressed to (JSON documents and rows of
        the hub's tables). A re-applied erasure knows its records only by keyed digests, and
        matches these against them when the database no longer holds the record."""
        try:
            opened = OutboxFolder.existing(self.root, self.folder, self.body, self.skipped)
        except NotAFolderError as error:
            self.skipped[error.kind] += 1
            return set()
        if opened is None:
            return set()
        found: set[str] = set()
        with opened as folder:
            for name in folder.names():
                if name.startswith(TEMPORARY_PREFIX):
                    continue
                if name.startswith("summaries-") and name.endswith(".csv"):
                    found |= {row["record_id"] for row in _read_table(folder, name) or ()}
                elif name.endswith(".json"):
                    found |= _record_of(folder.read_bytes(name, DOCUMENT))
        return found


def _record_of(data: bytes | None) -> set[str]:
    """The record id of one JSON document the hub wrote (nothing for anything else)."""
    try:
        document = json.loads(data) if data is not None else None
    except ValueError:
        return set()
    record_id = document.get("record_id") if isinstance(document, dict) else None
    return {record_id} if isinstance(record_id, str) else set()


def _files(documents: Sequence[Mapping[str, Any]]) -> list[tuple[str, bytes]]:
    """Every file of a delivery, by name, as the bytes to write: one JSON per document, then the CSV."""
    files = [
        (
            f"{safe_file_name(_target(d)[0])}.{d['kind']}.json",
            document_bytes(_written(d)),
        )
        for d in documents
    ]
    table = summaries_csv(documents).encode()
    return [*files, (f"summaries-{hashlib.sha256(table).hexdigest()[:16]}.csv", table)]


def _target(document: Mapping[str, Any]) -> tuple[str, str]:
    """(file name stem, record id) of a document."""
    return document.get(FILE_ID) or document["record_id"], document["record_id"]


def _written(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as its file holds it: without the hub's file name."""
    return {key: value for key, value in document.items() if key != FILE_ID}


def _remove(folder: OutboxFolder, targets: set[tuple[str, str]], kinds: set[str] | None) -> int:
    """Documents of these kinds (None: all) addressed to these records, each as (file name stem,
    record id): JSON files, CSV rows (one pass)."""
    if not targets:
        return 0
    removed = 0
    for file_id, _record_id in targets:
        for kind in kinds or KINDS:
            removed += folder.remove(f"{safe_file_name(file_id)}.{kind}.json", DOCUMENT)
    record_ids = {record_id for _file_id, record_id in targets}
    ids = record_ids | {str(spreadsheet_safe(record_id)) for record_id in record_ids}
    for name in folder.names():
        if name.startswith("summaries-") and name.endswith(".csv"):
            removed += _take_back_rows(folder, name, ids, kinds)
    return removed


def _take_back_rows(folder: OutboxFolder, name: str, ids: set[str], kinds: set[str] | None) -> int:
    """Take the rows addressed to ``ids`` out of one table; a table the hub did not write is left alone."""
    rows = _read_table(folder, name)
    if rows is None:
        return 0
    kept = [row for row in rows if not (row["record_id"] in ids and (kinds is None or row["kind"] in kinds))]
    if len(kept) == len(rows):
        return 0
    if kept:
        folder.write(name, _table(kept).encode(), TABLE)
    else:
        folder.remove(name, TABLE)
    return len(rows) - len(kept)


def _read_table(folder: OutboxFolder, name: str) -> list[dict[str, str]] | None:
    """The rows of a table in the folder; None when it is not a plain file or not a table the hub wrote."""
    data = folder.read_bytes(name, TABLE)
    if data is None:
        return None
    rows = parse_table(data)
    if rows is None:
        folder.skip(MALFORMED, TABLE)
    return rows


def parse_table(data: bytes) -> list[dict[str, str]] | None:
    """The rows of a summaries CSV as the hub writes them, or None when ``data`` is not one: not
    UTF-8, not CSV, another header, a row cut short or too long (planted, or half written)."""
    try:
        lines = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    if not lines or tuple(lines[0]) != CSV_COLUMNS or any(len(line) != len(CSV_COLUMNS) for line in lines[1:]):
        return None
    return [dict(zip(CSV_COLUMNS, line, strict=True)) for line in lines[1:]]


def summaries_csv(documents: Sequence[Mapping[str, Any]]) -> str:
    """One row per document; nested parts flattened to ``a:b:c|…`` cells."""
    return _table([_flat(document) for document in documents])


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(row.get(column) or "") for column in CSV_COLUMNS} for row in rows)
    return out.getvalue()


def _flat(document: Mapping[str, Any]) -> dict[str, str]:
    def joined(items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        return "|".join(":".join(str(item.get(f) or "") for f in fields) for item in items)

    return {
        "kind": document["kind"],
        "record_id": document["record_id"],
        "residence_status": document.get("residence_status") or "",
        "rechtskreis": document.get("rechtskreis") or "",
        "rechtskreis_history": joined(
            document.get("rechtskreis_history") or (), ("on", "kind", "body", "residence_status", "rechtskreis")
        ),
        "cases_elsewhere": joined(document.get("cases_elsewhere") or (), ("body", "status", "since", "closed")),
        "open_referrals": joined(document.get("open_referrals") or (), ("to", "status", "by")),
        "categories": "|".join(document.get("categories") or ()),
        "notice": document.get("notice") or "",
    }
