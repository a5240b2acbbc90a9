"""Erasure requests and the retention rule, applied to the database, the source's archive and the
outboxes. Recipients who received data of an erased record get an erasure notice from the next
push (the CLI and the retention flow run one right after)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.hub_db.erasure import ErasureOutcome, erase_record, erase_records, expired_records
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.push import outbox_sink


def erase(home: HubHome, sessions: sessionmaker[Session], source: str, record_id: str) -> ErasureOutcome:
    """Erase one record everywhere; the source's archived deliveries (which hold it in clear) go too."""
    with sessions() as session, session.begin():
        outcome = erase_record(session, source, record_id)
    _clear_files(home, outcome)
    return outcome


def apply_retention(
    home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None
) -> dict[str, dict[str, int]]:
    """Erase, per source with a retention period, the records of cases closed longer ago."""
    summary: dict[str, dict[str, int]] = {}
    for source, settings in config.sources.items():
        if settings.retention_days is None:
            continue
        with sessions() as session, session.begin():
            outcome = erase_records(
                session, expired_records(session, source, settings.retention_days, today), "retention period over"
            )
        _clear_files(home, outcome)
        summary[source] = {"records_erased": outcome.records_erased, "persons_erased": outcome.persons_erased}
    return summary


def _clear_files(home: HubHome, outcome: ErasureOutcome) -> None:
    """The erased records' rows in archived deliveries, and documents addressed to them."""
    for source in sorted({source for source, _record_id in outcome.erased}):
        DropFolder.under(home.path, source).purge_archive(older_than_days=0)
    for source, record_id in outcome.erased:
        outbox_sink(home, source).forget(record_id)
