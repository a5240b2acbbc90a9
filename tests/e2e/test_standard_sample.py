"""End to end on ../shared/samples/standard: the real CLI, a real Prefect flow, real SQLite.

One home is ingested once per module (a Prefect flow run starts a temporary API server, which
costs seconds); the tests then look at it from every side: linkage quality against truth.csv,
the links CSV contract, idempotent re-runs, and the absence of clear identity at rest.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from pathlib import Path

import pytest

from kim_hub.linkage.evaluate import pairwise_score
from tests.support import copy_sample, init_home, run_cli, sample
from tests.support.data import STANDARD_F1_FLOOR, stored_truth
from tests.support.leak_scan import database_values, without_sealed_values

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = init_home(tmp_path_factory.mktemp("standard") / "home")  # the fixed test key
    copy_sample(home, "standard")
    started = time.perf_counter()
    first = run_cli("ingest", home=home)
    elapsed = time.perf_counter() - started  # printed, never asserted
    links = run_cli("links", home=home).stdout
    return {"home": home, "ingest": first, "links": links, "seconds": elapsed}


def test_ingest_succeeds_without_rejections(ingested: dict) -> None:
    assert ingested["ingest"].returncode == 0, ingested["ingest"].stderr[-2000:]
    assert "5482 records linked" in ingested["ingest"].stdout


def test_links_csv_contract(ingested: dict) -> None:
    lines = ingested["links"].splitlines()
    assert lines[0] == "source,record_id,person_id,link_status,score"
    rows = list(csv.DictReader(io.StringIO(ingested["links"])))
    assert len(rows) == 5482
    assert {r["link_status"] for r in rows} <= {"auto", "review", "single", "manual"}
    assert all(re.fullmatch(r"P-[0-9A-F]{12}", r["person_id"]) for r in rows)


def test_linkage_beats_floor_against_truth(ingested: dict) -> None:
    rows = csv.DictReader(io.StringIO(ingested["links"]))
    predicted = {(r["source"], r["record_id"]): r["person_id"] for r in rows}
    score = pairwise_score(stored_truth(sample("standard") / "truth.csv", ingested["home"]), predicted)
    print(f"standard sample: P {score.precision:.4f} R {score.recall:.4f} F1 {score.f1:.4f} in {ingested['seconds']:.1f} s")
    assert score.f1 >= STANDARD_F1_FLOOR


def test_the_learnt_prior_knows_a_body_seldom_holds_one_person_twice(ingested: dict) -> None:
    with sqlite3.connect(ingested["home"] / "var" / "hub.db") as db:
        (parameters,) = db.execute("SELECT parameters FROM model_versions ORDER BY id DESC LIMIT 1").fetchone()
    learnt = json.loads(parameters)
    assert learnt["same_body_shift"] < 0 < learnt["other_body_shift"]


def test_reingest_changes_nothing(ingested: dict) -> None:
    home = ingested["home"]
    again = run_cli("ingest", home=home)
    assert again.returncode == 0
    assert "0 records linked" in again.stdout
    assert run_cli("links", home=home).stdout == ingested["links"]


WORD = re.compile(r"[^\W\d_]{5,}")
NUMBER_OR_DATE = re.compile(r"\d{12}|\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}")
# Prefect stores the Unix epoch as a timestamp default; it is not anybody's birth date here.
NOT_IDENTITY = {"1970-01-01", "01.01.1970"}
GENERIC_WORDS = {"strasse", "straße", "platz", "landstraße", "allee"}


def _clear_identity_values() -> tuple[set[str], set[str]]:
    """Name and street words (5+ letters), birth dates and AZR numbers of the input."""
    words: set[str] = set()
    numbers: set[str] = set()
    case_dates: set[str] = set()
    for path in (sample("standard") / "inbox").rglob("*.csv"):
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig") if _is_utf8(raw) else raw.decode("cp1252")
        first_line = text.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text), delimiter=";" if first_line.count(";") > first_line.count(",") else ",")
        header = [h.strip().lower() for h in next(reader)]
        for row in reader:
            record = dict(zip(header, row))
            for key in ("family_name", "nachname", "given_names", "vornamen", "street", "strasse"):
                for word in WORD.findall(record.get(key, "")):
                    if word.lower() not in GENERIC_WORDS:
                        words |= {word, word.upper(), word.lower()}
            numbers.add((record.get("azr_number") or record.get("azr_nummer") or "").strip())
            numbers.add((record.get("birth_date") or record.get("geburtsdatum") or "").strip())
            case_dates.add(record.get("updated_at") or record.get("stand") or "")
    return words, numbers - case_dates - NOT_IDENTITY - {""}


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_no_clear_identity_at_rest_or_in_logs(ingested: dict) -> None:
    home: Path = ingested["home"]
    # checkpoint the WAL so the main database file holds everything, then scan every file
    sqlite3.connect(home / "var" / "hub.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    blobs = {str(p): p.read_bytes() for p in (home / "var").rglob("*") if p.is_file()}
    # the database as its SQL dump, value by value (tests.support.leak_scan says why)
    blobs[str(home / "var" / "hub.db")] = database_values(home / "var" / "hub.db")
    blobs.update({str(p): p.read_bytes() for p in (home / "reports").rglob("*") if p.is_file()})
    blobs["ingest stdout"] = ingested["ingest"].stdout.encode()
    blobs["ingest stderr"] = ingested["ingest"].stderr.encode()
    blobs["links"] = ingested["links"].encode()
    assert any("prefect" in name for name in blobs), "Prefect's storage should be inside the home"
    words, numbers = _clear_identity_values()
    assert len(words) > 1000 and len(numbers) > 1000
    leaks = []
    for name, blob in blobs.items():
        for encoding in ("utf-8", "cp1252", "utf-16-le"):
            text = blob.decode(encoding, errors="ignore")
            if name.endswith(".html"):  # CSS keywords (@media) are not data; every text node is scanned
                text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
            text = without_sealed_values(text)  # ciphertext spells names by chance (leak_scan)
            found = (set(WORD.findall(text)) & words) | (set(NUMBER_OR_DATE.findall(text)) & numbers)
            leaks += [(name, encoding, len(found))] if found else []
    assert not leaks, f"clear identity found in: {leaks}"


def test_the_scan_would_find_a_leak(tmp_path: Path) -> None:
    """The leak scan above is only worth something if it sees a planted value."""
    words, numbers = _clear_identity_values()
    planted = f"log line {sorted(words)[0]} {sorted(numbers)[0]}"
    found = (set(WORD.findall(planted)) & words) | (set(NUMBER_OR_DATE.findall(planted)) & numbers)
    assert len(found) == 2


def test_key_file_is_private(ingested: dict, tmp_path: Path) -> None:
    """As `kim-hub init` makes it (a fresh home: its own random key, only the modes are checked),
    and still after a whole ingest (the sample's home, which holds the fixed test key)."""
    fresh = tmp_path / "fresh"
    assert run_cli("init", home=fresh).returncode == 0
    for home in (fresh, ingested["home"]):
        keys = list((home / "keys").glob("*.key"))
        assert keys and all(k.stat().st_mode & 0o777 == 0o600 for k in keys), home
        assert (home / "keys").stat().st_mode & 0o777 == 0o700, home
