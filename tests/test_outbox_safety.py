"""The outboxes trust nothing they find: a body may plant anything in its own outbox folder.

A symlink, FIFO or folder where the hub expects its own file is never followed, read or written
through: it is left alone, reported by kind (never by content) and counted in the push result. A
table the hub did not write (planted, half-written) is skipped with a warning. One body's failed
delivery holds up no other body, and a document that cannot be encoded is refused on its own.
Every planted value is a canary that must not reach a warning, an error or a push result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kim_hub.connectors.outbox import OutboxSink
from kim_hub.hub_db.models import SourceRecord
from kim_hub.pipeline.push import PushOutcome
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv, person_at

CANARY = "Zyxwvutsrq"
MARTA_AT = "{},Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,active,2026-01-15,kim,,2026-11-20"


# --- helpers ---------------------------------------------------------------------------------------------


def exchanged(hub: Hub, *, marta: bool = False) -> None:
    """Samira (and Marta) at caritas and the job centre, consenting to kim, linked and pushed once."""
    caritas, jobcenter = [person_at("C-1")], [person_at("962D000001")]
    if marta:
        caritas.append(MARTA_AT.format("C-2"))
        jobcenter.append(MARTA_AT.format("962D000002"))
    hub.drop("caritas", "c.csv", exchange_csv(*caritas))
    hub.drop("jobcenter", "j.csv", exchange_csv(*jobcenter))
    hub.sync()
    hub.push(TODAY)


def withdraw_at_caritas(hub: Hub) -> None:
    """Samira withdraws at caritas: the next push sends both bodies a notice (and takes back rows)."""
    hub.drop("caritas", "c2.csv", exchange_csv(person_at("C-1", withdrawn="2026-11-24", updated="2026-11-24")))
    hub.sync()


def jobcentre_file(hub: Hub, customer_no: str, kind: str) -> str:
    """A job-centre document's file name: the hub's token of the Kundennummer, not the number."""
    return f"{hub.stored_id('jobcenter', customer_no)}.{kind}.json"


def outbox(hub: Hub, body: str) -> Path:
    return hub.home.outbox(body, "summaries")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every regular file of a folder by name, as bytes (symlinks not followed)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if stat.S_ISREG(p.lstat().st_mode)}


def regular_text(folder: Path) -> str:
    """What a body could collect from its folder: the text of its regular files."""
    return "".join(content.decode("utf-8", "replace") for content in snapshot(folder).values())


def said(caplog: pytest.LogCaptureFixture, outcome: object = None) -> str:
    """Everything the hub said: log messages and the push result."""
    return "\n".join(record.getMessage() for record in caplog.records) + "\n" + repr(outcome)


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a blocked open() of a FIFO with an exception."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- symlinks ----------------------------------------------------------------------------------------------


def test_a_symlink_to_another_bodys_files_is_never_followed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    b_sink = OutboxSink(tmp_path / "outbox" / "stadt" / "summaries")
    b_sink.push(
        [
            {"kind": "summary", "record_id": "R-1", "residence_status": "AE_25_2_GFK"},
            {"kind": "summary", "record_id": "R-2", "residence_status": CANARY},  # B's data, not A's
        ]
    )
    b_files = snapshot(b_sink.folder)
    (b_table,) = b_sink.folder.glob("summaries-*.csv")
    a_folder = tmp_path / "outbox" / "awo" / "summaries"
    a_folder.mkdir(parents=True)
    (a_folder / "summaries-0000000000000000.csv").symlink_to(b_table)  # planted by A
    (a_folder / "R-1.summary.json").symlink_to(b_sink.folder / "R-1.summary.json")

    a_sink = OutboxSink(a_folder)
    assert a_sink.push([{"kind": "withdrawal", "record_id": "R-1", "notice": "delete"}]) == 1  # A's push happens

    assert snapshot(b_sink.folder) == b_files  # B's files unchanged
    assert CANARY not in regular_text(a_folder)  # no row of B's copied into A's outbox
    assert "R-1.withdrawal.json" in snapshot(a_folder)
    for planted in ("summaries-0000000000000000.csv", "R-1.summary.json"):
        assert (a_folder / planted).is_symlink()  # left alone, neither followed nor replaced
    assert a_sink.skipped == {"symlink": 2}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("symlink" in w and "awo" in w for w in warnings)
    assert CANARY not in said(caplog)


def test_an_outbox_folder_that_is_a_symlink_is_not_written_through(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    exchanged(hub)
    withdraw_at_caritas(hub)
    planted = outbox(hub, "jobcenter")
    for leftover in planted.iterdir():
        leftover.unlink()
    planted.rmdir()
    planted.symlink_to(outbox(hub, "caritas"), target_is_directory=True)  # the job centre's folder → caritas'

    outcome = hub.push(TODAY)

    assert "962D000001" not in regular_text(outbox(hub, "caritas"))  # nothing for the job centre landed at caritas
    assert "C-1.withdrawal.json" in snapshot(outbox(hub, "caritas"))  # caritas' push happened
    assert planted.is_symlink()
    assert list(outcome.failed) == ["jobcenter"] and "symlink" in outcome.failed["jobcenter"]
    assert outcome.withdrawal_notices == 1  # caritas' notice; the job centre's is planned again
    assert CANARY not in said(caplog, outcome)


# --- FIFOs and planted tables ------------------------------------------------------------------------------


def test_a_fifo_in_an_outbox_does_not_hang_the_push(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    exchanged(hub)
    withdraw_at_caritas(hub)  # a notice makes the sink read the tables in the outbox
    fifo = outbox(hub, "jobcenter") / "summaries-ffffffffffffffff.csv"
    os.mkfifo(fifo)

    with deadline(15):
        outcome = hub.push(TODAY)

    assert outcome.withdrawal_notices == 2 and not outcome.failed
    assert jobcentre_file(hub, "962D000001", "withdrawal") in snapshot(outbox(hub, "jobcenter"))
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # left alone
    assert outcome.outbox_entries_skipped == {"jobcenter": {"FIFO": 1}}
    assert any("FIFO" in r.getMessage() and "jobcenter" in r.getMessage() for r in caplog.records)


def test_a_malformed_table_planted_in_an_outbox_is_skipped(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    exchanged(hub)
    withdraw_at_caritas(hub)
    folder = outbox(hub, "jobcenter")
    not_utf8 = b"kind,record_id\nsummary,962D000001 \xff" + CANARY.encode() + b"\n"
    no_record_id = f"nothing,like,our,header\n{CANARY},1,2,3\n".encode()
    short_row = f"kind,record_id,residence_status\nsummary,{CANARY}\n".encode()
    planted = {"summaries-0000000000000000.csv": not_utf8, "summaries-1111111111111111.csv": no_record_id}
    planted["summaries-2222222222222222.csv"] = short_row
    for name, content in planted.items():
        (folder / name).write_bytes(content)

    outcome = hub.push(TODAY)

    assert outcome.withdrawal_notices == 2 and not outcome.failed  # the push completed, for both bodies
    assert jobcentre_file(hub, "962D000001", "withdrawal") in snapshot(folder)
    assert {name: (folder / name).read_bytes() for name in planted} == planted  # skipped, not rewritten
    assert outcome.outbox_entries_skipped == {"jobcenter": {"malformed CSV": 3}}
    assert CANARY not in said(caplog, outcome)


def test_an_erasure_takes_back_only_what_the_hub_wrote(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(f"kind,record_id,notice\nsummary,R-1,{CANARY}\n")
    sink = OutboxSink(tmp_path / "outbox" / "awo" / "summaries")
    sink.push([{"kind": "summary", "record_id": "R-1"}, {"kind": "summary", "record_id": "R-2"}])
    os.mkfifo(sink.folder / "summaries-ffffffffffffffff.csv")
    (sink.folder / "summaries-0000000000000000.csv").symlink_to(elsewhere)

    with deadline(15):
        assert sink.forget("R-1") == 2  # its JSON file and its row in the table the hub wrote

    assert sorted(p.name for p in sink.folder.glob("*.json")) == ["R-2.summary.json"]
    assert elsewhere.read_text() == f"kind,record_id,notice\nsummary,R-1,{CANARY}\n"  # not followed
    assert sink.skipped == {"FIFO": 1, "symlink": 1}
    assert CANARY not in said(caplog)


# --- one body's failure, one document's refusal ------------------------------------------------------------


def test_one_bodys_failing_sink_does_not_stop_another_bodys_delivery(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()
    real_push = OutboxSink.push

    def push_failing_at_caritas(sink: OutboxSink, documents: Sequence[Mapping[str, Any]]) -> int:
        if sink.folder.parent.name == "caritas":
            raise RuntimeError(f"disk trouble near {CANARY}")
        return real_push(sink, documents)

    monkeypatch.setattr(OutboxSink, "push", push_failing_at_caritas)
    first = hub.push(TODAY)  # caritas comes first and fails

    assert jobcentre_file(hub, "962D000001", "summary") in snapshot(
        outbox(hub, "jobcenter")
    )  # the job centre still got its summary
    assert first.failed == {"caritas": "RuntimeError"} and first.summaries_sent == 1
    assert CANARY not in said(caplog, first)

    monkeypatch.setattr(OutboxSink, "push", real_push)
    second = hub.push(TODAY)  # caritas' summary was not recorded: it is delivered now
    assert (second.summaries_sent, second.unchanged, second.failed) == (1, 1, {})
    assert "C-1.summary.json" in snapshot(outbox(hub, "caritas"))


def test_a_push_that_failed_in_part_exits_4_and_names_body_and_kind_only() -> None:
    from kim_hub.cli.sync import push_problems, sync_exit_code

    push = {
        **PushOutcome(summaries_sent=1).__dict__,
        "failed": {"caritas": "RuntimeError"},
        "outbox_entries_skipped": {"awo": {"symlink": 2}},
    }
    summary = {"failed": {}, "files_failed": 0, "records_rejected": 0, "files_rejected": 0, "push": push}
    assert sync_exit_code(summary) == 4
    assert push_problems(push) == [
        "caritas: not delivered, retried next run (RuntimeError)",
        "awo: left alone in its outbox: 2 symlink",
    ]
    refused = {**PushOutcome().__dict__, "documents_refused": {"jobcenter": 1}}
    assert sync_exit_code({**summary, "push": refused}) == 4
    skipped_only = {**PushOutcome().__dict__, "outbox_entries_skipped": {"awo": {"FIFO": 1}}}
    assert sync_exit_code({**summary, "push": skipped_only}) == 0  # delivered around: reported, not failed
    assert sync_exit_code({**summary, "push": None}) == 0


def test_a_document_that_cannot_be_encoded_is_refused_alone(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1"), MARTA_AT.format("C-2")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001"), MARTA_AT.format("962D000002")))
    hub.sync()
    with hub.sessions() as session, session.begin():  # a lone surrogate, as a JSON escape from a source can carry
        record = session.execute(select(SourceRecord).where(SourceRecord.record_id == "C-1")).scalar_one()
        # (in a field the summary passes on as stored: goals outside their code list never leave the hub)
        record.case_data = {**record.case_data, "residence_status": CANARY + "\ud800"}

    outcome = hub.push(TODAY)

    assert outcome.documents_refused == {"jobcenter": 1}  # Samira's summary to the job centre carries it
    assert outcome.summaries_sent == 3 and not outcome.failed  # everything else went
    to_jobcenter = snapshot(outbox(hub, "jobcenter"))
    assert (
        jobcentre_file(hub, "962D000002", "summary") in to_jobcenter
        and jobcentre_file(hub, "962D000001", "summary") not in to_jobcenter
    )
    assert {"C-1.summary.json", "C-2.summary.json"} <= set(snapshot(outbox(hub, "caritas")))
    assert CANARY not in said(caplog, outcome)
    again = hub.push(TODAY)  # refused, so not recorded: planned (and refused) again, nothing else resent
    assert (again.summaries_sent, again.documents_refused) == (0, {"jobcenter": 1})
