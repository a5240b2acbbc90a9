"""Errors never carry values: canary identities in failing deliveries leave no byte outside them.

A real `kim-hub ingest` (a Prefect flow, Prefect's own database in ``var/prefect``) over a home
whose deliveries fail in every way the intake knows — a row the mapping refuses, text in a
number cell of a workbook, a job-centre export whose trailer is no count, a file the hub died on
twice — beside one good file, and with one exception that escapes a task: a corrupt previous
report (``reports/report.json``) whose count is no number, so ``int()`` quotes the value in its
message inside the task ``write-report``. Each failing delivery carries the same canary identity
(a name, an AZR-shaped number, a birth date in both notations).

Then every byte of the home is scanned — the hub's database, Prefect's database with its WAL
(tables ``log``, ``task_run_state``, ``flow_run_state``, ``events``), receipts, reports — plus the
command's stdout and stderr. The canaries may be only in the deliveries themselves (``inbox/``,
``processing/``, ``archive/``, ``failed/``) and in the one corrupt input the test planted.

The same holds for REST sources whose API answers fail in every way the pull knows (items the
mapping flags or refuses, text that is not Unicode, JSON nested past the parser, a server error
and a redirect that quote the person): an API on a loopback port of the test serves them.
"""

from __future__ import annotations

import http.server
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.support import csv_text, deliver, init_home, run_cli
from tests.support.data import GOOD, HEADER

pytestmark = pytest.mark.e2e

NAME, AZR, BIRTH_ISO, BIRTH_DE = "Zyxwvutsrq", "987654321098", "1913-07-13", "13.07.1913"
CANARIES = (NAME, AZR, BIRTH_ISO, BIRTH_DE)
DELIVERY_FOLDERS = ("inbox", "processing", "archive", "failed")
CORRUPT_REPORT = Path("reports") / "report.json"


def _mapping_errors() -> str:
    """Provider rows the mapping refuses or flags: no record id, an AZR too long, a birth date that is no date."""
    return csv_text(
        [
            f",{NAME},Quux,{BIRTH_ISO},F,SYR,Testweg 1,51373,{AZR},active",
            f"M-2,{NAME},Yara,{BIRTH_ISO}T25:61,F,SYR,Testweg 2,51373,{AZR}7,active",
            f"M-3,,,{BIRTH_DE}x,F,SYR,,,{AZR}x,active",
        ],
        HEADER,
    )


def _workbook_with_text_in_a_number_cell() -> bytes:
    """An XLSX whose postcode cell (a number cell) holds the canary identity as text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["record_id", "family_name", "given_names", "birth_date", "azr_number", "postcode"])
    sheet.append(["X-1", NAME, "Samira", BIRTH_ISO, AZR, 51373])
    plain = io.BytesIO()
    book.save(plain)
    source, damaged = zipfile.ZipFile(io.BytesIO(plain.getvalue())), io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb"<v>51373</v>", f"<v>{NAME} {AZR} {BIRTH_ISO}</v>".encode(), content)
            out.writestr(item, content)
    return damaged.getvalue()


def _jobcentre_export_with_a_bad_trailer() -> bytes:
    """The job centre's notation with the canary as a person, and a trailer that is no count."""
    lines = [
        "Kundennummer;Nachname;Vorname;Geburtsdatum;Status;Stand",
        f"999E000001;{NAME};Samira;{BIRTH_DE};Leistungsbezug;24.11.2026 23:15",
        f"#Anzahl Datensätze;{NAME}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _plant(home: Path) -> None:
    """The good file, the failing deliveries, a file two runs died on, and the corrupt previous report."""
    deliver(home / "inbox" / "caritas", "good.csv", csv_text(GOOD, HEADER))
    deliver(home / "inbox" / "diakonie", "mapping_errors.csv", _mapping_errors())
    deliver(home / "inbox" / "awo", "text_in_number.xlsx", _workbook_with_text_in_a_number_cell())
    deliver(home / "inbox" / "jobcenter", "JC_KIM_20261125.csv", _jobcentre_export_with_a_bad_trailer())
    processing = home / "processing" / "stadt"
    processing.mkdir(parents=True)
    (processing / "killed_twice.csv").write_text(csv_text([f"K-1,{NAME},Samira,{BIRTH_ISO},F,SYR,,,{AZR},active"], HEADER))
    (processing / ".attempts-killed_twice.csv").write_text("2\n", encoding="ascii")
    (home / CORRUPT_REPORT).parent.mkdir(parents=True, exist_ok=True)
    (home / CORRUPT_REPORT).write_text(json.dumps({"totals": {"persons": f"{NAME} {AZR} {BIRTH_ISO}"}}), encoding="utf-8")


EXPECTED_STATUSES = {
    "caritas/good.csv": "done",
    "diakonie/mapping_errors.csv": "done_with_notes",  # two rows refused, one landed with notes
    "awo/text_in_number.xlsx": "rejected",
    "jobcenter/JC_KIM_20261125.csv": "rejected",
    "stadt/killed_twice.csv": "failed",
}


def _receipt_statuses(home: Path) -> dict[str, str]:
    receipts = (home / "outbox").glob("*/receipts/*.receipt.json")
    return {
        f"{path.parts[-3]}/{path.name.removesuffix('.receipt.json')}": json.loads(path.read_text(encoding="utf-8"))["status"]
        for path in receipts
    }


def _patterns(canary: str) -> list[bytes]:
    return [canary.encode(encoding) for encoding in ("utf-8", "utf-16-le")]


def _is_delivery(home: Path, path: Path) -> bool:
    relative = path.relative_to(home)
    return relative.parts[0] in DELIVERY_FOLDERS or relative == CORRUPT_REPORT


def scan(home: Path, *texts: str, everywhere: bool = False) -> dict[str, list[str]]:
    """{where: canaries found}: each file under the home outside the deliveries (unless
    ``everywhere``), and each captured output in ``texts`` (named ``output 0``, ``output 1``…)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if everywhere or not _is_delivery(home, path):
            content = path.read_bytes()
            hits = [c for c in CANARIES if any(pattern in content for pattern in _patterns(c))]
            if hits:
                found[str(path.relative_to(home))] = hits
    for number, text in enumerate(texts):
        hits = [c for c in CANARIES if c in text]
        if hits:
            found[f"output {number}"] = hits
    return found


def test_no_canary_escapes_a_failing_delivery_or_a_failing_task(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")  # the fixed test key
    _plant(home)

    run = run_cli("ingest", home=home, check=False)

    assert run.returncode == 4, run.stderr[-3000:]  # files set aside and the report failed: part of the run
    assert "report failed (ValueError)" in run.stderr, "the escaping exception was raised (else this test tests nothing)"
    assert _receipt_statuses(home) == EXPECTED_STATUSES, "each delivery failed the way it was made to"
    assert (home / "var" / "prefect" / "prefect.db").exists()
    assert scan(home, everywhere=True), "the scan finds the canaries where they are"
    assert scan(home, run.stdout, run.stderr) == {}
    assert "Traceback" not in run.stderr


# --- REST sources whose answers fail ------------------------------------------------------------------

TOKEN_VARIABLE, TOKEN = "KIM_HUB_TEST_REST_TOKEN", "canary-free-token"


def _item(record_id: str, **fields: str) -> dict[str, str]:
    return {"record_id": record_id, "family_name": NAME, "given_names": "Samira", "birth_date": BIRTH_ISO, **fields}


def _page(*items: object) -> bytes:
    return json.dumps({"items": list(items), "next_cursor": None}).encode()


REST_ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    # an item the mapping flags (a birth date that is no date, an AZR too long) and one it refuses (no record id)
    "mapping": (200, {}, _page(_item("R-1", birth_date=f"{BIRTH_DE}x", azr_number=f"{AZR}7"), _item("", azr_number=AZR))),
    # text that is not Unicode: a lone surrogate beside the canary
    "surrogate": (200, {}, _page(_item("R-2", family_name=f"{NAME}\\ud800")).replace(b"\\\\ud800", b"\\ud800")),
    # JSON nested deeper than the parser follows, the canary at its heart
    "nested": (200, {}, b'{"items": [' + b"[" * 100_000 + json.dumps(_item("R-3")).encode() + b"]" * 100_000 + b"]}"),
    # a server error whose body quotes the person
    "failing": (500, {}, json.dumps({"error": f"no such person {NAME} {AZR} {BIRTH_ISO}"}).encode()),
    # a redirect whose target names the person
    "redirected": (307, {"Location": f"http://127.0.0.1:9/{NAME}/{AZR}/{BIRTH_ISO}"}, b""),
}


class _CanaryApi(http.server.BaseHTTPRequestHandler):
    """Each REST source's API at ``/<source>/…``: its pages of ``REST_ANSWERS``, health always fine."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        source, _, rest = self.path.lstrip("/").partition("/")
        status, headers, body = (200, {}, b'{"status": "ok"}') if rest.startswith("health") else REST_ANSWERS[source]
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        """Quiet: the test's output is scanned too."""


@pytest.fixture
def canary_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CanaryApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _add_rest_sources(home: Path, api: str) -> None:
    """One REST source per way of failing, beside the good drop-folder source caritas."""
    tables = [
        f'\n[sources.{source}]\nconnectors = ["rest"]\n\n[sources.{source}.options]\n'
        f'base_url = "{api}/{source}"\ntoken_env = "{TOKEN_VARIABLE}"\nmax_retries = "0"\n'
        for source in REST_ANSWERS
    ]
    config = home / "hub.toml"
    config.write_text(config.read_text(encoding="utf-8") + "".join(tables), encoding="utf-8")


def test_no_canary_escapes_a_failing_rest_source(tmp_path: Path, canary_api: str) -> None:
    home = init_home(tmp_path / "home")
    _add_rest_sources(home, canary_api)
    deliver(home / "inbox" / "caritas", "good.csv", csv_text(GOOD, HEADER))

    run = run_cli("ingest", home=home, check=False, env={TOKEN_VARIABLE: TOKEN})

    assert run.returncode == 4, run.stderr[-3000:]  # sources failed, the others went on
    for source, kind in (("nested", "BadInputError"), ("failing", "BadInputError"), ("redirected", "ConfigError")):
        assert f"source {source} failed ({kind})" in run.stderr, f"{source} failed the way it was made to"
    assert "lone surrogate" in run.stderr, "the surrogate reached the connector (else this tests nothing)"
    links = run_cli("links", "--format", "csv", home=home)
    landed = {tuple(line.split(",")[:2]) for line in links.stdout.splitlines()[1:]}
    assert landed == {("caritas", "C-1"), ("caritas", "C-2"), ("mapping", "R-1"), ("surrogate", "R-2")}
    assert scan(home, run.stdout, run.stderr, links.stdout) == {}
    assert "Traceback" not in run.stderr
