"""What a sender gets back for broken deliveries: a receipt and the file in failed/, while good
deliveries of the same run still land (issue: connectors, done-when list)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.models import SourceRecord
from tests.support import FIXTURES, Hub
from tests.support.data import ABH_GOOD, FLAWED, GOOD, JOBCENTER_EXPORT, UNATTRIBUTABLE


def stored(sessions: sessionmaker[Session], source: str) -> list[str]:
    with sessions() as session:
        return sorted(session.execute(select(SourceRecord.record_id).where(SourceRecord.source == source)).scalars())


def test_truncated_job_centre_export_is_rejected_whole_and_keeps_the_previous_state(hub: Hub) -> None:
    good = JOBCENTER_EXPORT.read_bytes()
    hub.drop("jobcenter", "JC_KIM_20261124.csv", good)
    hub.ingest("jobcenter")
    before = stored(hub.sessions, "jobcenter")
    assert before

    truncated = b"\r\n".join(good.split(b"\r\n")[:3]) + b"\r\n"  # cut off mid-file: no trailer
    hub.drop("jobcenter", "JC_KIM_20261125.csv", truncated)
    outcome = hub.ingest("jobcenter")
    assert outcome.files_rejected == 1
    assert (hub.path / "failed" / "jobcenter" / "JC_KIM_20261125.csv").exists()
    assert hub.receipt("jobcenter", "JC_KIM_20261125.csv")["status"] == "rejected"
    assert "trailer" in (hub.path / "outbox" / "jobcenter" / "receipts" / "JC_KIM_20261125.csv.receipt.txt").read_text().lower()
    assert stored(hub.sessions, "jobcenter") == before


def test_hostile_or_invalid_xml_is_rejected_with_a_receipt_and_good_xml_still_lands(hub: Hub) -> None:
    good = ABH_GOOD.read_bytes()
    hub.drop("abh", "a_good.xml", good)
    hub.drop("abh", "b_xxe.xml", (FIXTURES / "abh" / "xxe.xml").read_bytes())
    hub.drop("abh", "c_laughs.xml", (FIXTURES / "abh" / "billion_laughs.xml").read_bytes())
    hub.drop("abh", "d_schema.xml", good.replace(b"<person>", b"<persona>", 1).replace(b"</person>", b"</persona>", 1))
    outcome = hub.ingest("abh")
    assert (outcome.files_ingested, outcome.files_rejected) == (1, 3)
    assert stored(hub.sessions, "abh")
    for name in ("b_xxe.xml", "c_laughs.xml", "d_schema.xml"):
        assert hub.receipt("abh", name)["status"] == "rejected"
        assert (hub.path / "failed" / "abh" / name).exists()
    everything = "".join(p.read_text() for p in (hub.path / "outbox").rglob("*.txt"))
    assert "root:" not in everything  # /etc/passwd was never read


def test_mixed_file_lands_its_good_rows_and_a_file_nobody_reads_is_returned(hub: Hub) -> None:
    hub.drop_rows("caritas", "mixed.csv", GOOD + FLAWED + UNATTRIBUTABLE)
    hub.drop("caritas", "notes.xml", b"<notes/>")
    outcome = hub.ingest("caritas")
    assert outcome.records_accepted == 5 and outcome.records_rejected == 2
    assert hub.receipt("caritas", "mixed.csv")["status"] == "done_with_notes"
    assert (hub.path / "archive" / "caritas" / "mixed.csv").exists()
    assert hub.receipt("caritas", "notes.xml")["status"] == "rejected"
    assert (hub.path / "failed" / "caritas" / "notes.xml").exists()


def test_symlinks_in_the_inbox_are_never_followed(hub: Hub, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    shutil.copyfile(hub.drop_rows("stadt", "real.csv", GOOD), outside)
    (hub.home.inbox("stadt") / "real.csv").unlink()
    (hub.home.inbox("stadt") / "link.csv").symlink_to(outside)
    outcome = hub.ingest("stadt")
    assert outcome.files_seen == 0 and outside.exists()
