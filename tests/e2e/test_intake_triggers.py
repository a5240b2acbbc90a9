"""What used to stop every sync, delivered all at once beside good files, through `kim-hub ingest`.

Each trigger (issue 18) has its own test at the pipeline level (tests/test_intake_isolation.py,
tests/test_field_contract.py); here they arrive together, as a municipality's inboxes would hold
them, in one real sync run (a Prefect flow): the good files land, are linked and pushed, the
report is written, each bad file is in ``failed/`` with a receipt that names no value, and the
next run leaves them alone. Foreseen refusals are rejections (exit 1); a file the hub died on
twice is set aside as a failure of the hub (exit 4, which wins).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kim_hub.connectors.abh_xml import AbhXmlConnector
from kim_hub.connectors.base import ExamplePerson
from kim_hub.connectors.jobcenter import JobcenterConnector
from kim_hub.connectors.provider_csv import ProviderCsvConnector
from tests.support import copy_deliveries, init_home, run_cli, sample, settle

pytestmark = pytest.mark.e2e

CANARY = "Zyxwvutsrq"
PERSONS = [ExamplePerson("T-1", CANARY, "Samira", "1988-03-14"), ExamplePerson("T-2", "Testova", "Marta", "1975-11-02")]


def _workbook(damage: str) -> bytes:
    book = Workbook()
    book.active.append(["record_id", "family_name", "given_names", "postcode"])
    book.active.append(["X-1", CANARY, "Samira", 51373])
    out = io.BytesIO()
    book.save(out)
    source, target = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(target, "w") as damaged:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                if damage == "no sheet":
                    continue
                content = re.sub(rb"<v>51373</v>", f"<v>{CANARY}</v>".encode(), content)  # text in a number cell
            damaged.writestr(item, content)
    return target.getvalue()


def _deliver_triggers(home: Path) -> dict[str, str]:
    """One bad delivery per trigger; returns {source/file: expected receipt status}."""
    inbox = home / "inbox"
    (inbox / "awo" / "text_in_number.xlsx").write_bytes(_workbook("text in a number cell"))
    (inbox / "diakonie" / "no_sheet.xlsx").write_bytes(_workbook("no sheet"))
    trailer = JobcenterConnector.example_delivery(inbox / "jobcenter", PERSONS)
    text = trailer.read_bytes().decode("cp1252").replace("#Anzahl Datensätze;2", "#Anzahl Datensätze;²")
    trailer.rename(inbox / "jobcenter" / "JC_KIM_20261125.csv").write_bytes(text.encode("utf-8"))
    anzahl = AbhXmlConnector.example_delivery(inbox / "abh", PERSONS)
    huge = anzahl.read_text(encoding="utf-8").replace('anzahl="2"', f'anzahl="{"9" * 5000}"')
    anzahl.rename(inbox / "abh" / "ABH_20261125_001.xml").write_text(huge, encoding="utf-8")
    processing = home / "processing" / "stadt"  # a file two earlier runs died on (the OOM killer)
    processing.mkdir(parents=True)
    died_on = ProviderCsvConnector.example_delivery(processing, PERSONS).rename(processing / "killed_twice.csv")
    (processing / f".attempts-{died_on.name}").write_text("2\n", encoding="ascii")
    for path in inbox.rglob("*"):
        if path.is_file():
            settle(path)
    return {
        "awo/text_in_number.xlsx": "rejected",
        "diakonie/no_sheet.xlsx": "rejected",
        "jobcenter/JC_KIM_20261125.csv": "rejected",
        "abh/ABH_20261125_001.xml": "rejected",
        "stadt/killed_twice.csv": "failed",
    }


def test_every_trigger_at_once_beside_good_files(tmp_path: Path, prefect_api: str) -> None:
    home = init_home(tmp_path / "home")  # the fixed test key
    good = sample("standard") / "inbox"
    copy_deliveries(sorted(p for source in ("caritas", "jobcenter", "awo") for p in (good / source).iterdir()), home)
    expected = _deliver_triggers(home)

    first = run_cli("ingest", home=home, check=False, api=prefect_api)  # the session's Prefect server
    assert first.returncode == 4, first.stderr[-3000:]  # a file set aside: part of the run failed
    assert "Traceback" not in first.stderr and CANARY not in first.stdout + first.stderr
    links = list(csv.DictReader(io.StringIO(run_cli("links", home=home).stdout)))
    assert {row["source"] for row in links} == {"caritas", "jobcenter", "awo"}
    assert all(row["person_id"] for row in links), "every landed record is linked"
    assert list((home / "outbox" / "caritas" / "summaries").glob("*.json")), "summaries were pushed"
    assert (home / "reports" / "report.html").exists()
    for where, status in expected.items():
        source, name = where.split("/")
        assert (home / "failed" / source / name).exists(), where
        receipt = (home / "outbox" / source / "receipts" / f"{name}.receipt.json").read_text(encoding="utf-8")
        assert json.loads(receipt)["status"] == status, where
        assert CANARY not in receipt, where
    assert not [p for p in (home / "processing").rglob("*") if p.is_file()]

    receipts = {p: p.stat().st_mtime_ns for p in (home / "outbox").rglob("*.receipt.json")}
    again = run_cli("ingest", home=home, check=False, api=prefect_api)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 records linked" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in (home / "outbox").rglob("*.receipt.json")} == receipts
