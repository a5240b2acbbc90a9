"""Erasure requests and the retention rule, applied to the database, the source's deliveries and
the outboxes. Recipients who received data of an erased record get an erasure notice from the
next push (the CLI and the retention flow run one right after).

The copies of deliveries (archive/, failed/, receipts) have periods of their own, applied here
for every source whether or not its records have a retention period (``pipeline.copies``).

An erasure request names the record as its source knows it: for a source whose ids the hub keeps
encrypted the clear id is encrypted to find the record (the token, as ``kim-hub links`` shows it,
is taken too). Its outbox documents are named by the token and its table rows by the clear id,
so both are looked for (``pipeline.record_ids``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.erasure import ErasureOutcome, erase_record, erase_records, expired_records
from kim_hub.pipeline.copies import purge_expired, purge_for_erasure
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.ingest import finish_imported_leftovers
from kim_hub.pipeline.push import outbox_sink
from kim_hub.pipeline.record_ids import RecordIdForms


def erase(
    home: HubHome, sessions: sessionmaker[Session], source: str, record_id: str, config: HubConfig | None = None
) -> ErasureOutcome:
    """Erase one record everywhere; the source's archived and failed deliveries (which may hold
    it in clear) go too.

    ``record_id`` as the source knows it (or as stored: the token of an encrypting source)."""
    forms = RecordIdForms.of(home, config or home.load_config())
    with sessions() as session, session.begin():
        outcome = erase_record(session, source, forms.stored(source, record_id.strip()))
    _clear_files(home, sessions, outcome, forms)
    return outcome


def apply_retention(
    home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None
) -> dict[str, dict[str, int]]:
    """Per source: erase the records of cases closed longer ago than its retention period (if it
    has one), then purge the copies of its deliveries kept longer than theirs."""
    summary: dict[str, dict[str, int]] = {}
    forms = RecordIdForms.of(home, config)
    for source, settings in config.sources.items():
        erased = ErasureOutcome()
        if settings.retention_days is not None:
            with sessions() as session, session.begin():
                erased = erase_records(
                    session, expired_records(session, source, settings.retention_days, today), "retention period over"
                )
            _clear_files(home, sessions, erased, forms)
        purged = purge_expired(home, source, settings, sessions)
        summary[source] = {"records_erased": erased.records_erased, "persons_erased": erased.persons_erased, **purged.as_dict()}
    return summary


def _clear_files(home: HubHome, sessions: sessionmaker[Session], outcome: ErasureOutcome, forms: RecordIdForms) -> None:
    """The erased records' rows in delivered files, and documents addressed to them (files named
    by the stored id, table rows by the id the body knows)."""
    for source in sorted({source for source, _record_id in outcome.erased}):
        finish_imported_leftovers(home, source, sessions)
        purge_for_erasure(home, source, sessions)
    for source, stored in outcome.erased:
        outbox_sink(home, source).forget(forms.address(source, stored) or stored, file_id=stored)
