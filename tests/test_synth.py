"""Tests of the synthetic data generator (synth): format, determinism, truth, phenomena.

Small populations only; generation speed is measured elsewhere, never asserted here.
"""

from __future__ import annotations

import collections
import csv
import datetime
import importlib
import io
import random
import re
from pathlib import Path

import pytest

from kim_hub import synth
from kim_hub.synth import GenerationSummary, generate
from kim_hub.synth.ids import IdSequence, Permutation, is_prime, prime_below
from kim_hub.synth.sources import SOURCE_NAMES, SOURCES, SourceProfile
from kim_hub.synth.spelling import ascii_fold, build_variants, split_article
from tests.support.data import truth_rows

PERSONS = 200
SEED = 5

# the module behind synth.generate (for its chunk size)
_gen_module = importlib.import_module("kim_hub.synth.generator")


def _read_rows(path: Path, profile: SourceProfile) -> list[list[str]]:
    """Parse an export the way its own dialect is written."""
    text = path.read_bytes().decode(profile.encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter))


def _records(summary: GenerationSummary) -> dict[tuple[str, str], dict[str, str]]:
    """All records keyed by (source, record_id), as dicts of standard column names."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for profile in SOURCES:
        rows = _read_rows(summary.files[profile.name], profile)
        for row in rows[1:]:
            record = dict(zip(profile.columns(), row))
            record["source"] = profile.name
            out[(profile.name, record["record_id"])] = record
    return out


def _truth(summary: GenerationSummary) -> list[dict[str, str]]:
    assert summary.truth is not None
    return truth_rows(summary.truth)


def _all_bytes(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("synth"), PERSONS, SEED)


@pytest.fixture(scope="module")
def records(generated: GenerationSummary) -> dict[tuple[str, str], dict[str, str]]:
    return _records(generated)


@pytest.fixture(scope="module")
def person_of(generated: GenerationSummary) -> dict[tuple[str, str], str]:
    return {(t["source"], t["record_id"]): t["person"] for t in _truth(generated)}


# --- public API and layout ------------------------------------------------------------------
def test_public_api_exports() -> None:
    assert set(synth.__all__) >= {"generate", "GenerationSummary"}
    assert callable(synth.generate)


def test_layout_and_summary(tmp_path: Path) -> None:
    day = datetime.date(2025, 7, 1)
    summary = generate(tmp_path, 50, 1, day=day)
    assert summary.persons == 50
    assert set(summary.files) == set(SOURCE_NAMES) == {"abh", "jobcenter", "caritas", "awo", "diakonie", "stadt"}
    for source, path in summary.files.items():
        assert path == tmp_path / "inbox" / source / f"{source}_export_20250701.csv"
        assert path.is_file()
    assert summary.truth == tmp_path / "truth.csv"
    assert summary.records == sum(summary.records_by_source.values()) == len(_truth(summary))
    assert not (tmp_path / ".synth-tmp").exists()


def test_rejects_empty_population(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, 0)


# --- determinism -----------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", PERSONS, SEED)
    generate(tmp_path / "b", PERSONS, SEED)
    assert _all_bytes(tmp_path / "a") == _all_bytes(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", PERSONS, 1)
    generate(tmp_path / "b", PERSONS, 2)
    a, b = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


def test_worker_count_does_not_change_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gen_module, "CHUNK_PERSONS", 70)  # several chunks in a small run
    generate(tmp_path / "one", 230, SEED, workers=1)
    generate(tmp_path / "two", 230, SEED, workers=2)
    assert _all_bytes(tmp_path / "one") == _all_bytes(tmp_path / "two")


# --- file format ----------------------------------------------------------------------------
@pytest.mark.parametrize("profile", SOURCES, ids=SOURCE_NAMES)
def test_file_parses_in_its_dialect(generated: GenerationSummary, profile: SourceProfile) -> None:
    raw = generated.files[profile.name].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (profile.encoding == "utf-8-sig")
    if profile.encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # "ß", "ü" in street and district names are single bytes
    lines = raw.split(b"\n")[:-1]
    assert all(line.endswith(b"\r") == (profile.lineterminator == "\r\n") for line in lines)
    rows = _read_rows(generated.files[profile.name], profile)
    assert rows[0] == profile.header()
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)


def test_dialects_vary_across_sources() -> None:
    by_name = {s.name: s for s in SOURCES}
    assert {s.encoding for s in SOURCES} == {"utf-8", "utf-8-sig", "cp1252"}
    assert {s.delimiter for s in SOURCES} == {",", ";"}
    german = [s for s in SOURCES if s.german_headers]
    assert german and all(s.encoding == "cp1252" and s.delimiter == ";" and s.lineterminator == "\r\n" for s in german)
    assert "fall_id" in german[0].header() and "nachname" in german[0].header()
    assert "jobcenter_customer_no" in by_name["jobcenter"].header()
    assert all("jobcenter_customer_no" not in s.columns() for s in SOURCES if s.name != "jobcenter")


def test_field_codes_follow_each_source(records: dict[tuple[str, str], dict[str, str]]) -> None:
    iso_date = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4})$")
    de_date = re.compile(r"^(\d{2}\.\d{2}\.\d{4}|\d{4})$")
    for (source, _), rec in records.items():
        profile = next(s for s in SOURCES if s.name == source)
        if rec["birth_date"]:
            assert (iso_date if profile.date_style == "iso" else de_date).match(rec["birth_date"]), rec
        assert rec["sex"] in ({"M", "F", "X", "U", ""} if profile.sex_style == "MF" else {"m", "w", "d", ""})
        if rec["azr_number"]:
            assert re.fullmatch(r"\d{12}", rec["azr_number"])
        if rec["residence_status"] in ("GESTATTUNG", "DULDUNG"):
            assert rec["rechtskreis"] == "AsylbLG"
        assert rec["case_status"] in {"intake", "assessment", "agreement", "active", "paused", "closed"}
        for goal in filter(None, rec["goals"].split("|")):
            assert re.fullmatch(r"[a-z]+:(planned|active|achieved|dropped)", goal)
    nationalities = {(src, rec["nationality"]) for (src, _), rec in records.items() if rec["nationality"]}
    assert any(src == "abh" and n == "SYR" for src, n in nationalities)
    assert any(src == "jobcenter" and n.isdigit() and len(n) == 3 for src, n in nationalities)
    assert any(src in ("caritas", "awo") and n[0].isupper() and len(n) > 3 for src, n in nationalities)
    assert any(src == "awo" and n.islower() for src, n in nationalities)


# --- truth and ids ----------------------------------------------------------------------------
def test_truth_covers_every_record_exactly_once(
    generated: GenerationSummary, records: dict[tuple[str, str], dict[str, str]]
) -> None:
    truth = _truth(generated)
    keys = [(t["source"], t["record_id"]) for t in truth]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(records)
    persons = {t["person"] for t in truth}
    assert len(persons) == PERSONS
    assert all(re.fullmatch(r"P\d{7}", p) for p in persons)


def test_record_ids_unique_within_source(generated: GenerationSummary) -> None:
    for profile in SOURCES:
        ids = [row[0] for row in _read_rows(generated.files[profile.name], profile)[1:]]
        assert len(ids) == len(set(ids)), profile.name


def test_jobcenter_ids_are_customer_numbers(records: dict[tuple[str, str], dict[str, str]]) -> None:
    jobcenter = [r for (s, _), r in records.items() if s == "jobcenter"]
    assert jobcenter
    for rec in jobcenter:
        assert re.fullmatch(r"\d{3}D\d{6}", rec["record_id"])
        assert rec["jobcenter_customer_no"] == rec["record_id"]


def test_source_coverage(person_of: dict[tuple[str, str], str]) -> None:
    sources_of: dict[str, set[str]] = collections.defaultdict(set)
    for (source, _), person in person_of.items():
        sources_of[person].add(source)
    share = {s: sum(s in v for v in sources_of.values()) / PERSONS for s in SOURCE_NAMES}
    assert share["abh"] > 0.85
    assert 0.45 < share["jobcenter"] < 0.85
    assert all(0.03 < share[s] < 0.35 for s in ("caritas", "awo", "diakonie", "stadt"))


def test_id_sequences_never_collide_across_chunks() -> None:
    perm = Permutation(9_000_000, random.Random(1))
    seen: set[int] = set()
    for chunk in range(3):
        seq = IdSequence(1_000_000, perm, chunk, 1000)
        for i in range(1000):
            seen.add(seq.next(duplicate=i % 3 == 0))
    assert len(seen) == 3000
    assert all(1_000_000 <= n < 10_000_000 for n in seen)


def test_primes() -> None:
    assert is_prime(9_999_991) and not is_prime(9_999_993)
    assert prime_below(100) == 97


# --- phenomena ---------------------------------------------------------------------------------
def test_placeholder_birth_dates_occur(records: dict[tuple[str, str], dict[str, str]]) -> None:
    dates = [r["birth_date"] for r in records.values()]
    placeholders = [d for d in dates if d.startswith("01.01.") or d.endswith("-01-01")]
    assert 0.08 < len(placeholders) / len(dates) < 0.35
    assert any(d == "" for d in dates)


def test_within_source_duplicates_occur(person_of: dict[tuple[str, str], str]) -> None:
    per_source_person = collections.Counter((source, p) for (source, _), p in person_of.items())
    duplicated = [k for k, n in per_source_person.items() if n > 1]
    assert duplicated
    assert len({p for _, p in duplicated}) / PERSONS < 0.12


def test_households_share_family_name_and_address(
    records: dict[tuple[str, str], dict[str, str]], person_of: dict[tuple[str, str], str]
) -> None:
    groups: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for key, rec in records.items():
        if rec["source"] == "abh" and rec["street"]:
            groups[(ascii_fold(rec["family_name"]).lower(), rec["street"])].add(person_of[key])
    assert sum(len(people) > 1 for people in groups.values()) >= 5


def test_same_name_different_persons(
    records: dict[tuple[str, str], dict[str, str]], person_of: dict[tuple[str, str], str]
) -> None:
    by_name: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for key, rec in records.items():
        by_name[(rec["family_name"].lower(), rec["given_names"].lower())].add(person_of[key])
    assert any(len(people) > 1 for people in by_name.values())


def test_authority_writes_capitals(records: dict[tuple[str, str], dict[str, str]]) -> None:
    abh = [r for r in records.values() if r["source"] == "abh"]
    upper = [r for r in abh if r["family_name"].isupper() and r["given_names"].isupper()]
    assert 0.3 < len(upper) / len(abh) < 0.9
    assert all(not re.search("[ÄÖÜäöü]", r["family_name"] + r["given_names"]) for r in upper)


def test_same_person_spelled_differently(
    records: dict[tuple[str, str], dict[str, str]], person_of: dict[tuple[str, str], str]
) -> None:
    names: dict[str, set[str]] = collections.defaultdict(set)
    for key, rec in records.items():
        names[person_of[key]].add(rec["family_name"].lower() + "|" + rec["given_names"].lower())
    multi = [v for v in names.values() if len(v) > 1]
    assert len(multi) > PERSONS * 0.2


# --- spelling rules -------------------------------------------------------------------------------
def test_transliteration_variants() -> None:
    mohammed = build_variants("Mohammed", "arabic")
    assert {"Muhammad", "Mohamad", "Mohamed"} <= set(mohammed.intl)
    assert "Schewtschenko" in build_variants("Shevchenko", "cyrillic").intl + build_variants("Shevchenko", "cyrillic").de
    assert {"Aleksandr", "Alexander"} <= set(build_variants("Oleksandr", "cyrillic").intl)
    turkish = build_variants("Öztürk", "turkish")
    assert {"Ozturk", "Oeztuerk"} <= set(turkish.intl + turkish.de)
    assert "Abdulrahman" in build_variants("Abdul Rahman", "arabic").intl
    assert "Chaled" in build_variants("Khaled", "arabic").de


def test_article_and_fold_helpers() -> None:
    assert split_article("Al-Khatib") == ("Al", "Khatib")
    assert split_article("Haddad") == ("", "Haddad")
    assert ascii_fold("Öztürk Şahin") == "Oeztuerk Sahin"


def test_departure_messages_are_opt_in_and_leave_the_recognitions_as_they_were(tmp_path: Path) -> None:
    """With ``departures`` the authority's file turns 1.1 and gains ausreise / zustaendigkeitswechsel / tod
    messages (6-digit nationality codes) that read and map without a rejection; the recognitions of the
    seed stay byte for byte what they were."""
    from kim_hub.connectors.abh_xml import read_abh_xml
    from kim_hub.mappings.abh_xml import map_abh_row
    from kim_hub.synth.status_messages import DEPARTURE_KINDS, write_status_messages

    day = datetime.date(2026, 11, 24)
    plain, with_departures = tmp_path / "plain", tmp_path / "departures"
    for outdir in (plain, with_departures):
        generate(outdir, PERSONS, SEED, day=day, workers=1)
    recognitions = write_status_messages(plain, day, SEED)
    messages = write_status_messages(with_departures, day, SEED, departures=0.2)
    assert [m for m in messages if m.kind == "statusaenderung"] == recognitions
    assert (plain / "status_messages.csv").read_bytes() == (with_departures / "status_messages.csv").read_bytes()
    assert not (plain / "departure_messages.csv").exists()
    departed = list(csv.DictReader((with_departures / "departure_messages.csv").open(encoding="utf-8")))
    assert {row["kind"] for row in departed} == {kind for kind, _weight in DEPARTURE_KINDS}

    name = f"statusmeldungen-{day.isoformat()}.xml"
    assert b'version="1.1"' in (with_departures / "inbox" / "abh" / name).read_bytes()
    assert b'version="1.1"' not in (plain / "inbox" / "abh" / name).read_bytes()
    batch = read_abh_xml(with_departures / "inbox" / "abh" / name)
    assert not batch.rejected_whole and batch.rejections == []
    mapped = [map_abh_row("abh", row) for row in batch.rows]
    assert all(not isinstance(result, list) for result in mapped), [r for r in mapped if isinstance(r, list)][:3]
    assert b'staatsangehoerigkeit code="000' in (with_departures / "inbox" / "abh" / name).read_bytes()
    closed = collections.Counter(s.case.events[0].kind for s in mapped if s.case.case_status == "closed")  # type: ignore[union-attr]
    assert set(closed) == {kind for kind, _weight in DEPARTURE_KINDS}
