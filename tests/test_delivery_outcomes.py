"""What a sender gets back for broken deliveries: a receipt and the file in failed/, while good
deliveries of the same run still land (issue: connectors, done-when list)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import select

from kim_hub.hub_db.models import SourceRecord
from kim_hub.pipeline.ingest import ingest_source
from tests.test_ingest_pipeline import BAD, GOOD, drop

FIXTURES = Path(__file__).parent / "fixtures"


def deliver(home, source: str, name: str, content: bytes) -> None:
    path = home.inbox(source) / name
    path.write_bytes(content)
    past = time.time() - 60
    os.utime(path, (past, past))


def receipt(home, source: str, name: str) -> dict:
    return json.loads((home.path / "outbox" / source / "receipts" / f"{name}.receipt.json").read_text())


def stored(sessions, source: str) -> list[str]:
    with sessions() as session:
        return sorted(session.execute(select(SourceRecord.record_id).where(SourceRecord.source == source)).scalars())


def test_truncated_job_centre_export_is_rejected_whole_and_keeps_the_previous_state(hub) -> None:
    home, config, sessions, keys = hub
    good = (FIXTURES / "jobcenter" / "JC_KIM_20261124.csv").read_bytes()
    deliver(home, "jobcenter", "JC_KIM_20261124.csv", good)
    ingest_source(home, config, "jobcenter", keys, sessions)
    before = stored(sessions, "jobcenter")
    assert before

    truncated = b"\r\n".join(good.split(b"\r\n")[:3]) + b"\r\n"  # cut off mid-file: no trailer
    deliver(home, "jobcenter", "JC_KIM_20261125.csv", truncated)
    outcome = ingest_source(home, config, "jobcenter", keys, sessions)
    assert outcome.files_rejected == 1
    assert (home.path / "failed" / "jobcenter" / "JC_KIM_20261125.csv").exists()
    assert receipt(home, "jobcenter", "JC_KIM_20261125.csv")["status"] == "rejected"
    assert "trailer" in (home.path / "outbox" / "jobcenter" / "receipts" / "JC_KIM_20261125.csv.receipt.txt").read_text().lower()
    assert stored(sessions, "jobcenter") == before


def test_hostile_or_invalid_xml_is_rejected_with_a_receipt_and_good_xml_still_lands(hub) -> None:
    home, config, sessions, keys = hub
    good = (FIXTURES / "abh" / "good.xml").read_bytes()
    deliver(home, "abh", "a_good.xml", good)
    deliver(home, "abh", "b_xxe.xml", (FIXTURES / "abh" / "xxe.xml").read_bytes())
    deliver(home, "abh", "c_laughs.xml", (FIXTURES / "abh" / "billion_laughs.xml").read_bytes())
    deliver(home, "abh", "d_schema.xml", good.replace(b"<person>", b"<persona>", 1).replace(b"</person>", b"</persona>", 1))
    outcome = ingest_source(home, config, "abh", keys, sessions)
    assert (outcome.files_ingested, outcome.files_rejected) == (1, 3)
    assert stored(sessions, "abh")
    for name in ("b_xxe.xml", "c_laughs.xml", "d_schema.xml"):
        assert receipt(home, "abh", name)["status"] == "rejected"
        assert (home.path / "failed" / "abh" / name).exists()
    everything = "".join(p.read_text() for p in (home.path / "outbox").rglob("*.txt"))
    assert "root:" not in everything  # /etc/passwd was never read


def test_mixed_file_lands_its_good_rows_and_a_file_nobody_reads_is_returned(hub) -> None:
    home, config, sessions, keys = hub
    drop(home, "caritas", "mixed.csv", GOOD + BAD)
    deliver(home, "caritas", "notes.xml", b"<notes/>")
    outcome = ingest_source(home, config, "caritas", keys, sessions)
    assert outcome.records_accepted == 2 and outcome.records_rejected == 3
    assert receipt(home, "caritas", "mixed.csv")["status"] == "done"
    assert (home.path / "archive" / "caritas" / "mixed.csv").exists()
    assert receipt(home, "caritas", "notes.xml")["status"] == "rejected"
    assert (home.path / "failed" / "caritas" / "notes.xml").exists()


def test_symlinks_in_the_inbox_are_never_followed(hub, tmp_path) -> None:
    home, config, sessions, keys = hub
    outside = tmp_path / "outside.csv"
    shutil.copyfile(drop(home, "stadt", "real.csv", GOOD), outside)
    (home.inbox("stadt") / "real.csv").unlink()
    (home.inbox("stadt") / "link.csv").symlink_to(outside)
    outcome = ingest_source(home, config, "stadt", keys, sessions)
    assert outcome.files_seen == 0 and outside.exists()
