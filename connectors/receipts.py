"""Receipts: what the hub tells a provider about a delivered file.

A receipt lands where the provider looks (``outbox/<source>/receipts/``) as JSON for machines
and as a short German/English text for people. It counts what was accepted, unchanged and
rejected, lists every rejected row by number, field and reason, and every note on a row that
was accepted (a value left out, kept with a warning or repaired) — never a value, so a receipt
may be forwarded without becoming a data-protection incident itself. Receipts are
written atomically and rebuilt from the ledger, so a re-run after a crash writes the same one.
They are the sender's to read: files 0640 in the group of the receipts folder (the body's group,
``kim-<body>``), the folder 2750 when the hub makes it (runtime.file_modes).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from stat import S_ISREG

from kim_hub.connectors.drop_folder import kept_since
from kim_hub.connectors.json_documents import document_bytes
from kim_hub.connectors.outbox_folder import share_with_group
from kim_hub.core.cells import spreadsheet_safe
from kim_hub.core.rows import Note, Rejection
from kim_hub.runtime.file_modes import OUTBOX_MODE, make_folder

STATUS_TEXT = {
    "done": ("angenommen", "accepted"),
    "done_with_notes": ("angenommen, mit Hinweisen", "accepted with notes"),
    "rejected": ("ganz abgelehnt", "rejected as a whole"),
    "duplicate": ("bereits erhalten, nicht erneut eingelesen", "already received, not imported again"),
    "failed": ("nicht verarbeitet, zurückgestellt", "not processed, set aside"),
}


@dataclass(frozen=True)
class Receipt:
    source: str
    file_name: str
    content_hash: str
    status: str  # done | rejected | duplicate | failed
    received_at: str
    rows_total: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    noted: int = 0  # accepted or unchanged rows with notes
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def shown_status(self) -> str:
        """The status as the sender reads it: "accepted with notes" when some values were settled."""
        return "done_with_notes" if self.status == "done" and self.notes else self.status

    def as_json(self) -> str:
        data = asdict(self)
        data["status"] = self.shown_status
        data["rejections"] = [{"row": r.row, "field": r.field, "reason": r.reason} for r in self.rejections]
        data["notes"] = [{"row": n.row, "field": n.field, "reason": n.reason} for n in self.notes]
        return document_bytes(data).decode()

    def as_text(self) -> str:
        german, english = STATUS_TEXT.get(self.shown_status, (self.shown_status, self.shown_status))
        lines = [
            f"Empfangsbestätigung / Receipt: {_printable(self.file_name)}",
            f"Quelle / source: {self.source}    Eingang / received: {self.received_at}",
            f"Status: {german} / {english}",
            f"Zeilen / rows: {self.rows_total}   neu oder geändert / new or changed: {self.accepted}   "
            f"unverändert / unchanged: {self.unchanged}   abgelehnt / rejected: {self.rejected}",
        ]
        if self.unknown_columns:
            lines.append(
                "Unbekannte Spalten (ignoriert) / unknown columns (ignored): " + ", ".join(map(_printable, self.unknown_columns))
            )
        if self.rejections:
            lines.append("")
            lines.append("Abgelehnt / rejected (Zeile / row, Feld / field: Grund / reason):")
            lines += [_listed(r.row, r.field, r.reason) for r in self.rejections]
        if self.notes:
            lines.append("")
            lines.append(f"Hinweise / notes ({self.noted} Zeilen / rows angenommen / accepted; Zeile / row, Feld / field):")
            lines += [_listed(n.row, n.field, n.reason) for n in self.notes]
        return "\n".join(lines) + "\n"


def _listed(row: int | None, column: str | None, reason: str) -> str:
    where = f"Zeile {row}" if row is not None else "Datei / file"
    field_name = f", {column}" if column else ""
    return f"  {where}{field_name}: {_printable(reason)}"


def write_receipt(folder: Path, receipt: Receipt) -> Path:
    """Write ``<file>.receipt.json`` and ``.receipt.txt`` atomically; returns the JSON path."""
    folder.parent.mkdir(parents=True, exist_ok=True)  # the body's outbox: `kim-hub init` made it, with its group
    make_folder(folder, OUTBOX_MODE)
    base = safe_file_name(receipt.file_name)
    json_path = folder / f"{base}.receipt.json"
    atomic_write(json_path, receipt.as_json())
    atomic_write(folder / f"{base}.receipt.txt", receipt.as_text())
    return json_path


def atomic_write(path: Path, text: str) -> None:
    """A new file (``mkstemp``: O_EXCL) beside ``path``, readable by the folder's group, renamed over it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            share_with_group(handle.fileno(), path.parent.stat().st_gid)
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


MAX_NAME_CHARS = 150  # + ".receipt.json" stays far below the usual 255-byte limit of a file name


def safe_file_name(name: str) -> str:
    """A file name that cannot leave the receipts folder or hide control characters.

    A name that had to be changed (or shortened) gets a short digest of the original, so two
    deliveries whose names clean up alike never overwrite each other's receipt."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)
    cleaned = cleaned.lstrip(".") or "file"
    if cleaned != name or len(cleaned) > MAX_NAME_CHARS:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        cleaned = f"{cleaned[:MAX_NAME_CHARS]}~{digest}"
    return cleaned


def _printable(text: str) -> str:
    """No control characters, and nothing a spreadsheet would run as a formula."""
    return spreadsheet_safe("".join(c if c.isprintable() else "?" for c in text))


RECEIPT_SUFFIXES = (".receipt.json", ".receipt.txt")
SET_ASIDE_STATUSES = frozenset({"rejected", "failed"})  # the delivery lies in failed/, not archive/
DELIVERED_STATUSES = frozenset({"done", "done_with_notes", "duplicate"})  # the delivery lies in archive/
STATUS_HEAD_BYTES = 8192  # the status is the fourth key of as_json, after a file name of at most 255 bytes
_STATUS_LINE = re.compile(r'^  "status": "([a-z_]+)",?$', re.MULTILINE)


def purge_receipts(folder: Path, delivered_days: float, set_aside_days: float, dry_run: bool = False) -> int:
    """Delete the receipts in ``folder`` kept longer than their delivery's period; returns how
    many (``dry_run``: only counts them).

    A receipt names row numbers and fields, never values, but it is still a record per delivery
    about persons, so it goes with its delivery: ``delivered_days`` (the archive's period) for a
    delivery that landed, ``set_aside_days`` for one rejected whole or set aside in failed/, as
    its JSON's status says (the ``.txt`` goes with its ``.json``). A receipt whose status cannot
    be read, and a temporary file an interrupted write left, get the shorter of the two. Only
    regular files named as the hub names receipts are removed; nothing is followed. Age counts
    as in ``drop_folder.kept_since`` (from when the receipt was written)."""
    if folder.is_symlink() or not folder.is_dir():
        return 0
    now = time.time()
    shortest, longest = sorted((delivered_days, set_aside_days))
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            base = _receipt_base(entry.name)
            if base is None:
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
                if not S_ISREG(stat.st_mode):
                    continue
                age_days = (now - kept_since(stat)) / 86_400
                if age_days < shortest:
                    continue
                if age_days < longest:
                    status = _status_of(folder / f"{base}.receipt.json") if base else None
                    if age_days < _period(status, delivered_days, set_aside_days):
                        continue
                if not dry_run:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue
            removed += 1
    return removed


def _period(status: str | None, delivered_days: float, set_aside_days: float) -> float:
    """How long a receipt of this status is kept: its delivery's period; unknown: the shorter."""
    if status in SET_ASIDE_STATUSES:
        return set_aside_days
    if status in DELIVERED_STATUSES:
        return delivered_days
    return min(delivered_days, set_aside_days)


def _receipt_base(name: str) -> str | None:
    """The delivery part of a receipt's name; "" for a temporary file of ``atomic_write``; None
    for anything else (not the hub's to remove)."""
    if name.startswith(".tmp-"):
        return ""
    for suffix in RECEIPT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _status_of(path: Path) -> str | None:
    """The status a receipt's JSON states, read from its first bytes without following a link
    or waiting on a pipe; None if it cannot be read."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not S_ISREG(os.fstat(handle).st_mode):
            return None
        head = os.read(handle, STATUS_HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(handle)
    found = _STATUS_LINE.search(head)
    return found.group(1) if found else None
