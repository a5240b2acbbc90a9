"""Retention and erasure cover every copy of a delivery (issue 19, item 5): archive/, failed/,
processing/ leftovers and receipts, each on its own period, and an erased record's rows in clear
in none of them, whatever the format of the delivery that held them."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from kim_hub.connectors.receipts import purge_receipts
from kim_hub.hub_db.models import AuditEntry
from kim_hub.linkage.pseudonymise import stored_record_id
from kim_hub.mappings.abh_xml import abh_record_id
from kim_hub.pipeline.erasure import apply_retention, erase
from tests.support import Hub, csv_text, deliver, init_home, run_cli
from tests.support.data import ABH_GOOD, GOOD, HEADER, JOBCENTER_EXPORT

CANARY = "Zyxwvutsrq"  # the erased person's given name: found nowhere else in a home
DAY = 86_400


def scan(home: Path, needle: str) -> list[str]:
    """Files under the home holding ``needle`` in any case, as UTF-8 or UTF-16 (either byte
    order), also inside a zip container (a workbook), whole or damaged."""
    patterns = [needle.lower().encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")]
    found = []
    for path in sorted(home.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        contents = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                contents += [archive.read(item) for item in archive.infolist()]
        if any(pattern in content.lower() for content in contents for pattern in patterns):
            found.append(str(path.relative_to(home)))
    return found


def age(path: Path, days: float) -> Path:
    """Make ``path`` look kept for ``days`` (its modification time; the change time cannot be set,
    and the hub counts from the earlier of the two)."""
    then = time.time() - days * DAY
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def purges(hub: Hub) -> list[dict[str, object]]:
    with hub.sessions() as session:
        return [e.detail for e in session.execute(select(AuditEntry).where(AuditEntry.action == "copies.purge")).scalars()]


# --- one good and one broken delivery per format, both holding the canary person ------------------


def _workbook(rows: list[list[object]], drop: str | None = None) -> bytes:
    """A workbook; ``drop``: leave out this part of it (a damaged workbook no reader opens)."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    whole = io.BytesIO()
    book.save(whole)
    damaged = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != drop:
                target.writestr(item, source.read(item))
    return damaged.getvalue()


def provider_csv(_hub: Hub) -> tuple[str, str, dict[str, bytes]]:
    text = csv_text([f"Z-1,Haddad,{CANARY},1988-03-14,F,SYR,Testweg 1,51373,,active", *GOOD], HEADER)
    # UTF-16 (Excel's "Unicode text") is refused whole: into failed/
    return "caritas", "Z-1", {"a_good.csv": text.encode("utf-8"), "b_unicode.csv": text.encode("utf-16")}


def provider_xlsx(_hub: Hub) -> tuple[str, str, dict[str, bytes]]:
    rows: list[list[object]] = [
        HEADER.strip().split(","),
        ["Z-1", "Haddad", CANARY, "1988-03-14", "F", "SYR", "Testweg 1", "51373", "", "active"],
    ]
    return "awo", "Z-1", {"a_good.xlsx": _workbook(rows), "b_damaged.xlsx": _workbook(rows, drop="xl/workbook.xml")}


def jobcenter_export(_hub: Hub) -> tuple[str, str, dict[str, bytes]]:
    good = JOBCENTER_EXPORT.read_bytes().replace(b"Karim Ali", CANARY.encode("cp1252"))
    truncated = b"\r\n".join(good.split(b"\r\n")[:3]) + b"\r\n"  # no trailer: rejected whole
    return "jobcenter", "123A000001", {"JC_KIM_20261124.csv": good, "JC_KIM_20261125.csv": truncated}


def abh_xml(hub: Hub) -> tuple[str, str, dict[str, bytes]]:
    good = ABH_GOOD.read_bytes().replace(b"MOHAMAD ALI", CANARY.upper().encode())
    invalid = good.replace(b"<person>", b"<persona>", 1).replace(b"</person>", b"</persona>", 1)  # fails the schema
    # the authority's record id is a keyed token of the AZR number: it is in no delivered file
    return "abh", stored_record_id(abh_record_id("200000000001"), hub.keys, "abh"), {"a_good.xml": good, "b_schema.xml": invalid}


@pytest.mark.parametrize("deliveries", [provider_csv, provider_xlsx, jobcenter_export, abh_xml])
def test_an_erasure_removes_the_persons_rows_from_archived_and_failed_deliveries_of_every_format(
    hub: Hub, deliveries: Callable[[Hub], tuple[str, str, dict[str, bytes]]]
) -> None:
    source, record_id, files = deliveries(hub)
    for name, content in files.items():
        hub.drop(source, name, content)
    outcome = hub.ingest(source)
    assert (outcome.files_ingested, outcome.files_rejected) == (1, 1)
    good, broken = files
    held = scan(hub.path, CANARY)
    assert held == [f"archive/{source}/{good}", f"failed/{source}/{broken}"], "the scan finds the canary where it is"

    assert erase(hub.home, hub.sessions, source, record_id).records_erased == 1

    assert scan(hub.path, CANARY) == []
    receipts = hub.home.outbox(source, "receipts")
    assert {f"{name}.receipt.json" for name in files} <= {p.name for p in receipts.iterdir()}, "receipts hold no value: kept"
    assert purges(hub) == [{"source": source, "reason": "erasure", "archive_purged": 1, "failed_purged": 1, "receipts_purged": 0}]


def test_an_erasure_reaches_a_leftover_a_crashed_run_had_already_imported(hub: Hub) -> None:
    hub.drop_rows("caritas", "c.csv", [f"Z-1,Haddad,{CANARY},1988-03-14,F,SYR,Testweg 1,51373,,active", *GOOD])
    hub.ingest("caritas")
    receipts = hub.home.outbox("caritas", "receipts")
    processing = hub.path / "processing" / "caritas"
    processing.mkdir(parents=True, exist_ok=True)
    # the run died after its commit and before its receipt and the move to archive/
    os.replace(hub.path / "archive" / "caritas" / "c.csv", processing / "c.csv")
    for receipt in receipts.iterdir():
        receipt.unlink()
    waiting = processing / "d.csv"  # claimed, not imported yet: a delivery still to come
    waiting.write_text(csv_text(["C-9,Wartend,Wanda,1990-01-01,F,UKR,Weg 9,51373,,active"], HEADER), encoding="utf-8")
    assert scan(hub.path, CANARY) == ["processing/caritas/c.csv"]

    assert erase(hub.home, hub.sessions, "caritas", "Z-1").records_erased == 1

    assert scan(hub.path, CANARY) == []
    assert json.loads((receipts / "c.csv.receipt.json").read_text(encoding="utf-8"))["accepted"] == 3, "its receipt written"
    assert [p.name for p in processing.iterdir()] == ["d.csv"]
    assert hub.ingest("caritas").records_accepted == 1, "the waiting delivery is read by the next run"


def test_failed_deliveries_and_receipts_past_their_period_go_with_the_retention_run(hub: Hub) -> None:
    settings = hub.config.sources["caritas"]
    settings.archive_days, settings.failed_days = 30, 7
    hub.drop_rows("caritas", "good.csv", GOOD)
    hub.drop("caritas", "notes.xml", b"<notes/>")  # no connector reads it: into failed/
    hub.ingest("caritas")
    archived, failed = hub.path / "archive" / "caritas" / "good.csv", hub.path / "failed" / "caritas" / "notes.xml"
    receipts = hub.home.outbox("caritas", "receipts")
    for path in (archived, failed, *receipts.iterdir()):
        age(path, 10)

    summary = apply_retention(hub.home, hub.config, hub.sessions)

    assert summary["caritas"] == {
        "records_erased": 0,
        "persons_erased": 0,
        "linkage_only_purged": 0,
        "archive_purged": 0,
        "failed_purged": 1,
        "receipts_purged": 2,
    }
    assert archived.exists() and not failed.exists()
    assert sorted(p.name for p in receipts.iterdir()) == ["good.csv.receipt.json", "good.csv.receipt.txt"]

    for path in (archived, *receipts.iterdir()):
        age(path, 31)
    assert apply_retention(hub.home, hub.config, hub.sessions)["caritas"]["archive_purged"] == 1
    assert not archived.exists() and not list(receipts.iterdir())
    audited = purges(hub)
    assert [(e["reason"], e["archive_purged"], e["failed_purged"], e["receipts_purged"]) for e in audited] == [
        ("period over", 0, 1, 2),
        ("period over", 1, 0, 2),
    ]
    assert "notes" not in json.dumps(audited) and "good" not in json.dumps(audited), "counts, never a file name"


def test_receipt_days_shortens_the_life_of_receipts_alone(hub: Hub) -> None:
    hub.config.sources["caritas"].receipt_days = 1
    hub.drop_rows("caritas", "good.csv", GOOD)
    hub.ingest("caritas")
    for path in hub.home.outbox("caritas", "receipts").iterdir():
        age(path, 2)
    counts = apply_retention(hub.home, hub.config, hub.sessions)["caritas"]
    assert (counts["archive_purged"], counts["receipts_purged"]) == (0, 2)
    assert (hub.path / "archive" / "caritas" / "good.csv").exists()


def test_a_receipt_goes_with_its_deliverys_period_and_nothing_else_in_the_folder_is_touched(tmp_path: Path) -> None:
    folder = tmp_path / "receipts"
    folder.mkdir()

    def receipt(name: str, status: str, days: float) -> None:
        (folder / f"{name}.receipt.json").write_text(
            f'{{\n  "source": "caritas",\n  "file_name": "{name}",\n  "content_hash": "",\n  "status": "{status}",\n}}\n'
        )
        (folder / f"{name}.receipt.txt").write_text("Status: …\n")
        age(folder / f"{name}.receipt.json", days)
        age(folder / f"{name}.receipt.txt", days)

    receipt("landed", "done_with_notes", 10)  # archive period 30: kept
    receipt("refused", "rejected", 10)  # failed period 7: gone
    receipt("garbled", "?", 10)  # status unreadable: the shorter period
    receipt("old", "done", 31)
    outside = tmp_path / "outside.receipt.json"
    outside.write_text("{}")
    age(outside, 100)
    (folder / "planted.receipt.json").symlink_to(outside)
    age(folder / "planted.receipt.json", 100)
    age(deliver(folder, "notes-of-the-body.txt", "x"), 100)

    assert purge_receipts(folder, delivered_days=30, set_aside_days=7) == 6

    assert sorted(p.name for p in folder.iterdir()) == [
        "landed.receipt.json",
        "landed.receipt.txt",
        "notes-of-the-body.txt",
        "planted.receipt.json",
    ]
    assert outside.exists()


def test_the_retention_command_purges_failed_deliveries_and_their_receipts(tmp_path: Path, prefect_api: str) -> None:
    home = init_home(tmp_path / "home")
    deliver(home / "inbox" / "caritas", "good.csv", csv_text(GOOD, HEADER))
    deliver(home / "inbox" / "caritas", "notes.xml", b"<notes/>")
    run_cli("ingest", home=home, api=prefect_api)
    failed = home / "failed" / "caritas" / "notes.xml"
    receipts = home / "outbox" / "caritas" / "receipts"
    for path in (failed, receipts / "notes.xml.receipt.json", receipts / "notes.xml.receipt.txt"):
        age(path, 31)  # failed_days defaults to 30

    result = run_cli("retention", home=home, api=prefect_api)

    assert "purged 0 archived and 1 failed deliveries, 2 receipt files" in result.stdout
    assert not failed.exists() and (home / "archive" / "caritas" / "good.csv").exists()
    assert sorted(p.name for p in receipts.iterdir()) == ["good.csv.receipt.json", "good.csv.receipt.txt"]
    audit = run_cli("audit", "--action", "copies.purge", home=home).stdout
    assert "failed_purged" in audit and "notes" not in audit
