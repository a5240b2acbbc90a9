"""A source's receipts as the web application lists them for the body that delivered (`outbox/<source>/receipts/`).

A receipt holds no value (``connectors.receipts``): counts, and rejected rows and notes by row,
field and reason. A receipt is addressed by the first 16 hex digits of its delivery's SHA-256
(``ReceiptSummary.key``), so a link names no file; a receipt that cannot be read as the hub wrote
it is left out, never shown in part.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kim_hub.pipeline.home import HubHome, check_source_name

RECEIPT_KEY = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class ReceiptSummary:
    """One receipt: the delivery, its status and counts; ``findings`` (rejections and notes) on one receipt's page."""

    key: str
    content_hash: str
    file_name: str
    status: str
    received_at: str
    rows_total: int
    accepted: int
    unchanged: int
    rejected: int
    noted: int
    findings: tuple[tuple[str, int | None, str | None, str], ...] = ()  # kind (rejected | note), row, field, reason
    source: str = ""

    @property
    def object_id(self) -> str:
        """The audit log's id of the delivery (``hub_db.audit_chain.file_object``): source and hash."""
        return f"file:{self.source}:{self.content_hash}"


def _read(path: Path, source: str) -> ReceiptSummary | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        content_hash = str(data["content_hash"])
        if data.get("source") != source or not re.fullmatch(r"[0-9a-f]{64}", content_hash):
            return None
        findings = tuple(
            (kind, item.get("row"), item.get("field"), str(item.get("reason", "")))
            for kind, name in (("rejected", "rejections"), ("note", "notes"))
            for item in data.get(name, [])
        )
        return ReceiptSummary(
            content_hash[:16],
            content_hash,
            str(data["file_name"]),
            str(data["status"]),
            str(data["received_at"]),
            int(data.get("rows_total", 0)),
            int(data.get("accepted", 0)),
            int(data.get("unchanged", 0)),
            int(data.get("rejected", 0)),
            int(data.get("noted", 0)),
            findings,
            source,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def receipts_of(home: HubHome, source: str) -> list[ReceiptSummary]:
    """The source's readable receipts, newest first."""
    folder = home.outbox(check_source_name(source, "source"), "receipts")
    if not folder.is_dir():
        return []
    found = [r for r in (_read(p, source) for p in sorted(folder.glob("*.receipt.json"))) if r is not None]
    return sorted(found, key=lambda r: (r.received_at, r.key), reverse=True)


def receipt_of(home: HubHome, source: str, key: str) -> ReceiptSummary | None:
    """One receipt of the source by its key, or None."""
    if not RECEIPT_KEY.fullmatch(key):
        return None
    return next((r for r in receipts_of(home, source) if r.key == key), None)
