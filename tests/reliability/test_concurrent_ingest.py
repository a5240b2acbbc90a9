"""Two `kim-hub ingest` processes on the same home at once (issue #8), and a leak scan of
everything the runs left behind.

Each process claims files by atomic rename and commits each file with its ledger entry, so
whichever process gets a file imports it; the other never sees it. Afterwards the canonical dump
must equal that of a single clean run with the same key: no record doubled, none lost, every
file taken, both processes exiting 0 or 1. The same home is then byte-scanned — database,
Prefect's database, reports, receipts, outboxes and both processes' output (with --verbose, so
Prefect's run log is included) — for the input's clear names, birth dates, addresses and AZR
numbers, and for the key itself.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from synth import generate
from tests.reliability.hub_processes import deliver as _deliver
from tests.reliability.hub_processes import dump as _dump
from tests.reliability.hub_processes import start_cli

pytestmark = pytest.mark.e2e

PERSONS = 200


def _home(root: Path, name: str, keys_from: Path | None = None) -> Path:
    home = root / name
    init = start_cli(home, "init")
    assert init.wait(timeout=120) == 0, init.stderr.read() if init.stderr else ""
    if keys_from is not None:
        shutil.rmtree(home / "keys")
        shutil.copytree(keys_from / "keys", home / "keys")  # same key: same encodings, comparable dumps
    _deliver(root / "drops", home)
    return home


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("concurrent")
    generate(root / "drops", PERSONS, seed=11, workers=1)
    clean = _home(root, "clean")
    single = start_cli(clean, "ingest")
    single.communicate(timeout=600)
    assert single.returncode in (0, 1)

    shared = _home(root, "shared", keys_from=clean)
    first, second = start_cli(shared, "ingest", "--verbose"), start_cli(shared, "ingest", "--verbose")
    outputs = [first.communicate(timeout=600), second.communicate(timeout=600)]
    return {"root": root, "clean": clean, "shared": shared, "codes": (first.returncode, second.returncode), "outputs": outputs}


def test_two_concurrent_ingests_equal_one_clean_run(runs: dict) -> None:
    assert set(runs["codes"]) <= {0, 1}, [err[-2000:] for _out, err in runs["outputs"]]
    shared: Path = runs["shared"]
    assert not list((shared / "inbox").rglob("*.csv")), "a delivered file was not taken"
    assert not list((shared / "processing").rglob("*.csv")), "a claimed file was left behind"
    archived = sorted(p.name for p in (shared / "archive").rglob("*.csv"))
    assert archived == sorted(p.name for p in (runs["root"] / "drops" / "inbox").rglob("*.csv")), "a file lost or doubled"
    assert _dump(shared) == _dump(runs["clean"])


def _clear_values(drops: Path) -> tuple[set[str], set[str]]:
    """Name and street words (5+ letters), birth dates and AZR numbers of the generated input."""
    words: set[str] = set()
    numbers: set[str] = set()
    case_values: set[str] = set()
    for path in (drops / "inbox").rglob("*.csv"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        first = text.split("\n", 1)[0]
        reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
        for record in reader:
            record = {k.strip().lower(): v for k, v in record.items() if k}
            for key in ("family_name", "nachname", "given_names", "vornamen", "vorname", "street", "strasse", "straße"):
                for word in re.findall(r"[^\W\d_]{5,}", record.get(key) or ""):
                    if word.lower() not in {"strasse", "straße", "platz", "allee", "landstraße"}:
                        words |= {word, word.upper(), word.lower()}
            for key, value in record.items():
                value = (value or "").strip()
                if key in ("azr_number", "azr_nummer", "azr-nummer", "birth_date", "geburtsdatum"):
                    numbers.add(value) if len(value) >= 8 else None
                else:
                    case_values.add(value)  # case dates (opened, updated …) are stored in clear by design
    case_values |= {_other_date_form(v) for v in case_values}
    return words, numbers - case_values - {"1970-01-01", "01.01.1970"}


def _other_date_form(value: str) -> str:
    """01.02.2025 <-> 2025-02-01: the database keeps case dates as ISO dates."""
    if m := re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", value):
        return f"{m[3]}-{m[2]}-{m[1]}"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value):
        return f"{m[3]}.{m[2]}.{m[1]}"
    return value


def test_no_clear_identity_or_key_anywhere_after_the_runs(runs: dict) -> None:
    home: Path = runs["shared"]
    sqlite3.connect(home / "var" / "hub.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    blobs = {str(p.relative_to(home)): p.read_bytes() for folder in ("var", "reports", "outbox") for p in (home / folder).rglob("*") if p.is_file()}
    assert any("prefect" in name for name in blobs) and any("receipt" in name for name in blobs)
    for i, (out, err) in enumerate(runs["outputs"]):
        blobs[f"run {i} stdout"], blobs[f"run {i} stderr"] = out.encode(), err.encode()
    words, numbers = _clear_values(runs["root"] / "drops")
    assert len(words) > 300 and len(numbers) > 300
    secrets = set()
    for key_file in (home / "keys").glob("*.key"):
        assert key_file.stat().st_mode & 0o777 == 0o600
        encoded = key_file.read_text().strip()
        secrets |= {encoded, base64.b64decode(encoded).hex()}
    leaks = []
    for name, blob in blobs.items():
        for encoding in ("utf-8", "cp1252", "utf-16-le"):
            text = blob.decode(encoding, errors="ignore")
            found = set(re.findall(r"[^\W\d_]{5,}", text)) & words
            found |= {n for n in numbers if n in text}
            found |= {s for s in secrets if s in text}
            if found:
                leaks.append((name, encoding, sorted(found)[:3]))
    assert not leaks, f"clear identity or key material found: {leaks[:10]}"
