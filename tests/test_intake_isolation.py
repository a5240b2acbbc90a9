"""Intake that never halts: each trigger that used to stop every sync, and the isolation behind them.

The triggers were found by feeding the hub what real systems and public benchmark data contain.
Each is handled where it arises (a connector refuses what it cannot trust, with a reason that
names no value); and whatever still escapes while one file is read, mapped, encoded or stored
sets that file aside in ``failed/`` with a receipt naming the exception's type only, while the
next file lands.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from pathlib import Path

import pytest
import responses
from openpyxl import Workbook

from kim_hub.connectors.abh_xml import AbhXmlConnector
from kim_hub.connectors.base import ExamplePerson
from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.connectors.jobcenter import JobcenterConnector
from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.connectors.rest import RestConfig, RestConnector
from kim_hub.core.errors import BadInputError
from kim_hub.pipeline import ingest
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.setup import encoding_keys, initialise
from tests.support import settle

CANARY = "Zyxwvutsrq"
PERSONS = [ExamplePerson("A-1", "Haddad", "Samira", "1988-03-14"), ExamplePerson("A-2", "Testova", "Marta", "1975-11-02")]


def _workbook_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_sheet_xml(data: bytes, change: str, to: str) -> bytes:
    """The workbook with one piece of its first sheet's XML replaced (a damage Excel never makes)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert change.encode() in content
                content = content.replace(change.encode(), to.encode())
            out.writestr(item, content)
    return target.getvalue()


GOOD_SHEET = [["record_id", "family_name", "given_names", "postcode"], ["X-1", "Haddad", "Samira", 51373]]


@pytest.mark.parametrize(
    "damage",
    [
        ("text in a number cell", lambda data: _with_sheet_xml(data, "<v>51373</v>", f"<v>{CANARY}</v>")),
        ("broken sheet XML", lambda data: _with_sheet_xml(data, "</sheetData>", "")),
        ("no sheet part", lambda data: _without(data, "xl/worksheets/sheet1.xml")),
    ],
    ids=lambda damage: damage[0],
)
def test_a_damaged_workbook_is_refused_whole_without_a_value(tmp_path: Path, damage) -> None:
    _label, damaged = damage
    path = tmp_path / "export.xlsx"
    path.write_bytes(damaged(_workbook_bytes(GOOD_SHEET)))
    batch = ProviderCsvConnector.read_file(path)  # must not raise
    assert batch.rejected_whole and not batch.rows
    assert not [r for r in batch.rejections if CANARY in r.describe()]


def _without(data: bytes, name: str) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            if item.filename != name:
                out.writestr(item, source.read(item))
    return target.getvalue()


@pytest.mark.parametrize("count", ["²", "9" * 5000, "-1", "4 "])
def test_a_job_centre_trailer_that_is_no_count_rejects_the_file_whole(tmp_path: Path, count: str) -> None:
    path = JobcenterConnector.example_delivery(tmp_path, PERSONS)
    text = path.read_bytes().decode("cp1252").replace("#Anzahl Datensätze;2", f"#Anzahl Datensätze;{count}")
    path.write_bytes(text.encode("utf-8"))
    batch = JobcenterConnector.read_file(path)
    assert batch.rejected_whole and not batch.rows
    assert ("row count" in batch.rejections[0].reason) or ("announces" in batch.rejections[0].reason)


def test_an_authority_anzahl_of_thousands_of_digits_rejects_the_file_whole(tmp_path: Path) -> None:
    path = AbhXmlConnector.example_delivery(tmp_path, PERSONS)
    path.write_text(path.read_text(encoding="utf-8").replace('anzahl="2"', f'anzahl="{"9" * 5000}"'), encoding="utf-8")
    batch = AbhXmlConnector.read_file(path)
    assert batch.rejected_whole and "anzahl" in batch.rejections[0].reason


@responses.activate
def test_deeply_nested_json_from_an_api_is_bad_input_not_a_crash() -> None:
    base = "https://provider.example"
    responses.get(f"{base}/cases", body="[" * 200_000 + "]" * 200_000, content_type="application/json")
    connector = RestConnector(RestConfig(base_url=base, token="t", max_retries=0))
    with pytest.raises(BadInputError, match="nested too deeply"):
        connector.pull({})


def _home(tmp_path: Path) -> tuple[HubHome, HubConfig]:
    home = HubHome(tmp_path / "home")
    config = initialise(home)
    for settings in config.sources.values():
        settings.settle_seconds = 0
    return home, config


def _ingest(home: HubHome, config: HubConfig, source: str) -> ingest.SourceOutcome:
    with open_sessions(home, config) as sessions:
        return ingest.ingest_source(home, config, source, encoding_keys(home, config), sessions)


def test_an_unexpected_error_sets_its_file_aside_and_the_next_file_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug or an unforeseen value in one file (here: a mapping that raises with a value in its
    message) costs that file, never the run: nothing of it is stored, the receipt names the kind."""
    home, config = _home(tmp_path)
    inbox = home.inbox("caritas")
    bad = settle(ProviderCsvConnector.example_delivery(inbox, [ExamplePerson("B-1", CANARY, "Samira", "1988-03-14")]))
    bad = settle(bad.rename(inbox / "a_bad.csv"))
    settle(ProviderCsvConnector.example_delivery(inbox, PERSONS)).rename(inbox / "b_good.csv")
    real_mapper = ingest._mapper

    def mapper_that_fails_on_the_canary(connector, *settings):  # noqa: ANN001, ANN002, ANN202 - test double
        mapping = real_mapper(connector, *settings)

        def mapped(source: str, row):  # noqa: ANN001, ANN202
            if row.fields.get("family_name") == CANARY:
                raise RuntimeError(f"cannot handle {CANARY}")
            return mapping(source, row)

        return mapped

    monkeypatch.setattr(ingest, "_mapper", mapper_that_fails_on_the_canary)
    outcome = _ingest(home, config, "caritas")
    assert (outcome.files_failed, outcome.files_ingested, outcome.records_accepted) == (1, 1, 2)
    assert [p.name for p in (home.path / "failed" / "caritas").iterdir()] == ["a_bad.csv"]
    receipt = (home.outbox("caritas", "receipts") / "a_bad.csv.receipt.json").read_text(encoding="utf-8")
    assert '"status": "failed"' in receipt and "RuntimeError" in receipt and CANARY not in receipt
    assert not list((home.path / "processing" / "caritas").iterdir())


def test_a_file_the_hub_died_on_twice_is_set_aside(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    processing = home.path / "processing" / "caritas"
    processing.mkdir(parents=True)
    leftover = ProviderCsvConnector.example_delivery(processing, PERSONS)
    (processing / f".attempts-{leftover.name}").write_text("2\n", encoding="ascii")  # two runs died on it
    outcome = _ingest(home, config, "caritas")
    assert outcome.files_failed == 1 and outcome.records_accepted == 0
    assert not list(processing.iterdir()), "the file and its counter are gone from processing/"
    assert (home.path / "failed" / "caritas" / leftover.name).exists()
    receipt = (home.outbox("caritas", "receipts") / f"{leftover.name}.receipt.json").read_text(encoding="utf-8")
    assert "interrupted twice" in receipt


def test_a_file_the_hub_died_on_once_is_finished(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    processing = home.path / "processing" / "caritas"
    processing.mkdir(parents=True)
    leftover = ProviderCsvConnector.example_delivery(processing, PERSONS)
    (processing / f".attempts-{leftover.name}").write_text("1\n", encoding="ascii")
    outcome = _ingest(home, config, "caritas")
    assert (outcome.files_ingested, outcome.records_accepted, outcome.files_failed) == (1, 2, 0)
    assert not list(processing.iterdir())


def test_what_was_swapped_in_for_a_file_is_refused_never_read(tmp_path: Path) -> None:
    """A sender who swaps a delivery for a symlink, a pipe or a hard link between the hub's listing
    and its claim gets a receipt; the hub reads nothing through it and never waits on it."""
    home, config = _home(tmp_path)
    other = home.path / "archive" / "awo"
    other.mkdir(parents=True)
    secret = ProviderCsvConnector.example_delivery(other, [ExamplePerson("W-1", CANARY, "Samira", "1988-03-14")])
    processing = home.path / "processing" / "caritas"
    processing.mkdir(parents=True)
    (processing / "link.csv").symlink_to(secret)
    os.mkfifo(processing / "pipe.csv")
    os.link(secret, processing / "hard.csv")
    outcome = _ingest(home, config, "caritas")  # returns: the pipe is never opened for a blocking read
    assert (outcome.files_rejected, outcome.files_failed, outcome.records_accepted) == (3, 0, 0)
    failed = home.path / "failed" / "caritas"
    assert sorted(p.name for p in failed.iterdir()) == ["hard.csv", "link.csv", "pipe.csv"]
    assert (failed / "link.csv").is_symlink() and secret.read_text(encoding="utf-8").count(CANARY) == 1
    receipt = (home.outbox("caritas", "receipts") / "link.csv.receipt.json").read_text(encoding="utf-8")
    assert '"status": "rejected"' in receipt and "not one regular file" in receipt and CANARY not in receipt


def test_the_bytes_read_are_those_of_the_file_claimed(tmp_path: Path) -> None:
    """Every read of a claimed file goes through the descriptor the claim opened and checked:
    what is put at its path afterwards is never read, and the name and suffix stay the file's."""
    folder = DropFolder.under(tmp_path, "caritas")
    folder.inbox.mkdir(parents=True)
    delivery = settle(ProviderCsvConnector.example_delivery(folder.inbox, PERSONS))
    with folder.claimed(delivery) as claim:
        assert claim is not None and claim.readable is not None
        assert claim.to_read.name == delivery.name and claim.to_read != claim.path
        assert claim.to_read.parent.parent == folder.processing, "named in the hub's own folder, not in /tmp"
        claim.path.unlink()  # what lies at the path is swapped for something else
        claim.path.write_text(f"record_id,family_name,given_names\nX-1,{CANARY},Samira\n", encoding="utf-8")
        batch = ProviderCsvConnector.read_file(claim.to_read)
        assert [row.fields["family_name"] for row in batch.rows] == ["Haddad", "Testova"]
        streamed = ProviderCsvConnector.stream_file(claim.to_read)
        assert [row.fields["record_id"] for row in streamed.all_rows()] == ["A-1", "A-2"]
    assert not claim.to_read.exists()  # the name for the descriptor goes with the claim


def test_a_reader_name_left_by_a_killed_run_is_removed_by_the_next_claim(tmp_path: Path) -> None:
    """A run killed while reading leaves its hidden reader folder in processing/, its link leading
    to a descriptor of a process that is gone; the next claim removes it, but never a folder whose
    link still leads somewhere, nor one made a moment ago (another run is about to use it)."""
    folder = DropFolder.under(tmp_path, "caritas")
    folder.inbox.mkdir(parents=True)
    folder.processing.mkdir(parents=True)
    dead, alive, fresh = (folder.processing / f".reading-{name}" for name in ("dead", "alive", "fresh"))
    for reading in (dead, alive, fresh):
        reading.mkdir()
    (dead / "export.csv").symlink_to("/proc/999999999/fd/7")
    (alive / "export.csv").symlink_to(tmp_path)
    (fresh / "export.csv").symlink_to("/proc/999999999/fd/8")
    an_hour_ago = time.time() - 3600
    for reading in (dead, alive):
        os.utime(reading, (an_hour_ago, an_hour_ago))
    delivery = settle(ProviderCsvConnector.example_delivery(folder.inbox, PERSONS))
    with folder.claimed(delivery) as claim:
        assert claim is not None and claim.readable is not None
    assert sorted(p.name for p in folder.processing.iterdir() if p.is_dir()) == [".reading-alive", ".reading-fresh"]


def test_a_file_is_taken_only_once_it_stands_still(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    config.sources["caritas"].settle_seconds = 30
    fresh = ProviderCsvConnector.example_delivery(home.inbox("caritas"), PERSONS)
    assert _ingest(home, config, "caritas").files_seen == 0, "modified a moment ago: still being written"
    settle(fresh)
    assert _ingest(home, config, "caritas").records_accepted == 2


def test_a_file_that_settled_only_just_gets_a_second_look_one_that_lay_still_for_long_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second look catches an upload that stalled for the settle time and resumes; a file
    that has stood still for several settle times is taken without it (a sync does not wait a
    second per source for files that lay there for minutes)."""
    folder = DropFolder.under(tmp_path, "caritas")
    folder.inbox.mkdir(parents=True)
    settle_seconds = 30.0
    resumed, old = folder.inbox / "resumed.csv", folder.inbox / "old.csv"
    for path, age in ((resumed, 2 * settle_seconds), (old, 10 * settle_seconds)):
        path.write_text("record_id\n", encoding="utf-8")
        past = time.time() - age
        os.utime(path, (past, past))
    waits: list[float] = []

    def upload_resumes(seconds: float) -> None:
        waits.append(seconds)
        with resumed.open("a", encoding="utf-8") as handle:
            handle.write("A-1\n")

    monkeypatch.setattr(time, "sleep", upload_resumes)
    assert folder.pending(settle_seconds) == [old], "the resumed upload waits for the next run"
    assert len(waits) == 1
    waits.clear()
    resumed.unlink()
    assert folder.pending(settle_seconds) == [old] and waits == [], "nothing settled only just: no wait"


def test_a_future_dated_file_is_taken_with_a_note_not_waited_on(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    config.sources["caritas"].settle_seconds = 30
    delivery = ProviderCsvConnector.example_delivery(home.inbox("caritas"), PERSONS)
    ahead = time.time() + 7 * 86_400  # a sender's clock a week ahead
    os.utime(delivery, (ahead, ahead))
    outcome = _ingest(home, config, "caritas")
    assert outcome.records_accepted == 2
    receipt = (home.outbox("caritas", "receipts") / f"{delivery.name}.receipt.json").read_text(encoding="utf-8")
    assert "modification time lay in the future" in receipt


def test_archive_retention_counts_from_the_claim_not_the_senders_clock(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    config.sources["caritas"].archive_days = 30
    delivery = ProviderCsvConnector.example_delivery(home.inbox("caritas"), PERSONS)
    old = time.time() - 100 * 86_400  # written a hundred days ago, delivered today
    os.utime(delivery, (old, old))
    _ingest(home, config, "caritas")
    archived = home.path / "archive" / "caritas" / delivery.name
    assert archived.exists(), "kept: it arrived today"
    assert time.time() - archived.stat().st_mtime < 3600


def _rezipped(data: bytes, extra: dict[str, bytes]) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item.filename, extra.pop(item.filename, source.read(item)))
        for name, content in extra.items():
            out.writestr(name, content)
    return target.getvalue()


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_refused_unread(tmp_path: Path) -> None:
    bomb = _rezipped(_workbook_bytes(GOOD_SHEET), {"xl/media/padding.xml": b"<x/>" * 5_000_000})  # 20 MB of one pattern
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)
    assert path.stat().st_size < 1_000_000
    batch = ProviderCsvConnector.read_file(path)
    assert batch.rejected_whole and "zip bomb" in batch.rejections[0].reason


def test_a_forged_dimension_record_does_not_widen_the_rows(tmp_path: Path) -> None:
    data = _workbook_bytes(GOOD_SHEET)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    forged = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    assert forged != sheet
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_rezipped(data, {"xl/worksheets/sheet1.xml": forged.encode()}))
    batch = ProviderCsvConnector.read_file(path)  # (unbounded, this took minutes and gigabytes)
    assert [row.fields["family_name"] for row in batch.rows] == ["Haddad"]


def test_a_file_with_more_rows_than_its_source_allows_is_refused_whole(tmp_path: Path) -> None:
    home, config = _home(tmp_path)
    config.sources["caritas"].options["max_rows"] = "1"
    delivery = settle(ProviderCsvConnector.example_delivery(home.inbox("caritas"), PERSONS))
    outcome = _ingest(home, config, "caritas")
    assert (outcome.files_rejected, outcome.records_accepted) == (1, 0)
    receipt = (home.outbox("caritas", "receipts") / f"{delivery.name}.receipt.json").read_text(encoding="utf-8")
    assert "more than the limit of 1 rows" in receipt
