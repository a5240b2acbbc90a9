"""The file sink: summaries and notices for a body that collects them from a shared folder.

Each document lands as ``outbox/<body>/summaries/<record_id>.<kind>.json`` (the newest of each
kind per record: a re-delivery overwrites, never duplicates) and every delivery as one CSV for
systems that import tables, ``summaries-<digest>.csv``. Both are written atomically. The CSV is
named by its content, so a run repeated after a crash rewrites the same file instead of adding a
second copy. Cells a spreadsheet would run as formulas are defused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kim_hub.connectors.receipts import atomic_write, safe_file_name, spreadsheet_safe

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


class OutboxSink:
    """Writes documents for one body into its outbox folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def push(self, documents: Sequence[Mapping[str, Any]]) -> int:
        """Write every document as JSON and all of them as one CSV; returns how many were written.

        A notice supersedes the summary it is about: a summary not yet collected is taken back
        (its JSON and its rows in earlier CSVs), so nobody collects what they must delete."""
        if not documents:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(".tmp-*"):  # a write a killed push left half done (pushes hold a lock)
            leftover.unlink(missing_ok=True)
        self._remove({d["record_id"] for d in documents if d["kind"] != "summary"}, kinds={"summary"})
        for document in documents:
            name = f"{safe_file_name(document['record_id'])}.{document['kind']}.json"
            atomic_write(self.folder / name, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        table = summaries_csv(documents)
        digest = hashlib.sha256(table.encode()).hexdigest()[:16]
        atomic_write(self.folder / f"summaries-{digest}.csv", table)
        return len(documents)

    def forget(self, record_id: str) -> int:
        """Remove everything addressed to an erased record (its JSON files and its CSV rows)."""
        return self._remove({record_id}, kinds=None)

    def _remove(self, record_ids: set[str], kinds: set[str] | None) -> int:
        """Documents of these kinds (None: all) addressed to these records: JSON files, CSV rows (one pass)."""
        if not record_ids or not self.folder.exists():
            return 0
        removed = 0
        for record_id in record_ids:
            for kind in kinds or KINDS:
                path = self.folder / f"{safe_file_name(record_id)}.{kind}.json"
                if path.exists():
                    path.unlink()
                    removed += 1
        ids = record_ids | {str(spreadsheet_safe(record_id)) for record_id in record_ids}
        for path in self.folder.glob("summaries-*.csv"):
            rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
            kept = [row for row in rows if not (row["record_id"] in ids and (kinds is None or row["kind"] in kinds))]
            if len(kept) == len(rows):
                continue
            removed += len(rows) - len(kept)
            if kept:
                atomic_write(path, _table(kept))
            else:
                path.unlink()
        return removed


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
