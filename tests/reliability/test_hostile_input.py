"""Hostile and broken deliveries (issue #8): the generated corpus of tests/reliability/hostile_corpus.py
goes through the real ingest path (pipeline.ingest.ingest_source, real database, no Prefect).

Every delivered file must end with a receipt (or, for what the hub never touches by design —
symlinks, pipes, hidden and partial files — stay where it is), the run keeps going, the good
files of the same run land, no identity value of the corpus shows up in clear anywhere the hub
wrote, and nothing a spreadsheet would execute reaches a CSV output or a text receipt unescaped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import select

from kim_hub.cli.main import main as kim_hub_main
from kim_hub.hub_db.models import SourceRecord
from tests.reliability.hostile_corpus import CANARIES, FORMULAS, GOOD_CSV, GOOD_CSV_IDS, Delivery, corpus, deliver
from tests.support import Hub
from tests.support.data import ABH_GOOD, JOBCENTER_EXPORT

SOURCES = ("caritas", "awo", "diakonie", "stadt", "abh", "jobcenter")
OUTSIDE_SECRET = "root:x:0:0:OUTSIDE-SECRET-7f3a"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _run_corpus(hub: Hub, tmp_path: Path) -> dict:
    outside = tmp_path / "outside" / "secret.csv"
    outside.parent.mkdir()
    outside.write_text(OUTSIDE_SECRET + "\n")
    cases = corpus(outside)
    for case in cases:
        deliver(hub.path / "inbox", case, outside)
    for source in SOURCES:  # good deliveries in the same run
        deliver(hub.path / "inbox", Delivery(source, b"zz_good.csv", GOOD_CSV), outside)
    deliver(hub.path / "inbox", Delivery("abh", b"zz_good.xml", ABH_GOOD.read_bytes()), outside)
    deliver(
        hub.path / "inbox",
        Delivery("jobcenter", b"JC_KIM_20261124.csv", JOBCENTER_EXPORT.read_bytes()),
        outside,
    )
    started = time.perf_counter()
    outcomes = {source: hub.ingest(source) for source in SOURCES}
    links = hub.path / "reports" / "links.csv"
    assert kim_hub_main(["links", "--home", str(hub.path), "--out", str(links)]) == 0
    return {
        "home": hub.path,
        "sessions": hub.sessions,
        "cases": cases,
        "outcomes": outcomes,
        "outside": outside,
        "links": links,
        "seconds": time.perf_counter() - started,
    }


def test_corpus_is_large_enough(tmp_path: Path) -> None:
    assert len(corpus(tmp_path / "x")) >= 200


def test_hostile_corpus_through_the_ingest_path(hub: Hub, tmp_path: Path) -> None:
    """One run of the whole corpus (per database backend), then every check on its results.

    How long it takes is printed, not asserted: timing is a benchmark's business (benchmarks/)."""
    ran = _run_corpus(hub, tmp_path)
    print(f"hostile corpus: {len(ran['cases'])} deliveries ingested in {ran['seconds']:.1f} s")
    check_every_file_gets_a_receipt_and_nothing_is_left_behind(ran)
    check_receipts_name_file_row_and_field(ran)
    check_good_files_of_the_same_run_land(ran)
    check_no_clear_identity_or_outside_content_anywhere(ran)
    check_no_formula_reaches_csv_outputs_or_text_receipts_unescaped(ran)
    check_formula_record_ids_are_rejected_with_a_reason(ran)


def check_every_file_gets_a_receipt_and_nothing_is_left_behind(ran: dict) -> None:
    home: Path = ran["home"]
    taken = [c for c in ran["cases"] if not c.ignored]
    seen = sum(o.files_seen for o in ran["outcomes"].values())
    assert seen == len(taken) + len(SOURCES) + 2, "every regular file is taken, nothing else"
    receipts = list((home / "outbox").rglob("*.receipt.json"))
    # one receipt per file taken (names are sanitised: distinct deliveries must keep distinct receipts)
    assert len(receipts) == seen
    for source in SOURCES:
        left = {p.name for p in (home / "inbox" / source).iterdir()}
        expected = {os.fsdecode(c.name) for c in ran["cases"] if c.source == source and c.ignored}
        assert left == expected, f"{source}: inbox holds {left - expected}"
        assert not list((home / "processing" / source).iterdir()) if (home / "processing" / source).exists() else True
    assert ran["outside"].read_text() == OUTSIDE_SECRET + "\n", "a file outside the inbox was touched"


def check_receipts_name_file_row_and_field(ran: dict) -> None:
    for path in (ran["home"] / "outbox").rglob("*.receipt.json"):
        receipt = json.loads(path.read_text(encoding="utf-8"))
        assert receipt["status"] in ("done", "done_with_notes", "rejected", "duplicate"), receipt
        if receipt["status"] == "rejected":
            assert receipt["rejections"], f"{path.name}: rejected without a reason"
        assert bool(receipt["notes"]) == (receipt["status"] == "done_with_notes"), f"{path.name}: notes and status disagree"
        for problem in receipt["rejections"] + receipt["notes"]:
            assert problem["reason"].strip()
            assert problem["row"] is None or problem["row"] >= 1
        text = path.with_name(path.name.removesuffix(".json") + ".txt").read_text(encoding="utf-8")
        assert all(c.isprintable() or c == "\n" for c in text), f"{path.name}: control character in the text receipt"


def check_good_files_of_the_same_run_land(ran: dict) -> None:
    with ran["sessions"]() as session:
        stored = set(session.execute(select(SourceRecord.source, SourceRecord.record_id)).all())
    for source in ("caritas", "awo", "diakonie", "stadt"):
        assert {(source, i) for i in GOOD_CSV_IDS} <= stored
    assert any(s == "abh" for s, _ in stored) and any(s == "jobcenter" for s, _ in stored)


def check_no_clear_identity_or_outside_content_anywhere(ran: dict) -> None:
    home: Path = ran["home"]
    db = home / "var" / "hub.db"
    if db.exists():
        sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    blobs = {str(p): p.read_bytes() for folder in ("var", "outbox", "reports") for p in (home / folder).rglob("*") if p.is_file()}
    with ran["sessions"]() as session:  # PostgreSQL: the rows themselves
        from kim_hub.hub_db.models import RejectedRow

        blobs["rejected rows"] = repr([r.__dict__ for r in session.execute(select(RejectedRow)).scalars()]).encode()
        blobs["records"] = repr([r.__dict__ for r in session.execute(select(SourceRecord)).scalars()]).encode()
    leaks = [
        (name, value)
        for name, blob in blobs.items()
        for value in (*CANARIES, "OUTSIDE-SECRET")
        for encoding in ("utf-8", "utf-16-le")
        if value.encode(encoding) in blob or value.upper().encode(encoding) in blob or value.lower().encode(encoding) in blob
    ]
    assert not leaks, f"clear values found: {sorted(set(leaks))[:20]}"


def _cells_starting_a_formula(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(FORMULA_START)]


def check_no_formula_reaches_csv_outputs_or_text_receipts_unescaped(ran: dict) -> None:
    links = ran["links"].read_text(encoding="utf-8")
    assert not _cells_starting_a_formula(links), "links CSV carries a formula"
    for path in (ran["home"] / "outbox").rglob("*.receipt.txt"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            assert not line.strip().startswith(FORMULA_START), f"{path.name}: {line!r}"
            value = line.split(": ", 1)[-1]  # what follows a label (file name, columns, reason)
            assert not value.startswith(FORMULA_START), f"{path.name}: {line!r}"
        for formula in FORMULAS:
            at = text.find(formula.strip())
            assert at <= 0 or text[at - 1] == "'", f"{path.name}: unescaped {formula!r}"


def check_formula_record_ids_are_rejected_with_a_reason(ran: dict) -> None:
    receipts = ran["home"] / "outbox"
    for i, _formula in enumerate(FORMULAS):
        found = list(receipts.rglob(f"formula_{i}_record_id.csv.receipt.json"))
        assert len(found) == 1
        receipt = json.loads(found[0].read_text())
        assert any(r["field"] == "record_id" for r in receipt["rejections"])
