"""Erasure requests and the retention rule, applied to the database, the source's deliveries and
the outboxes. Recipients who received data of an erased record get an erasure notice from the
next push (the CLI and the retention flow run one right after).

The copies of deliveries (archive/, failed/, receipts) have periods of their own, applied here
for every source whether or not its records have a retention period (``pipeline.copies``).

Records held only for linkage (``exchange.legal_basis``: from a statute for linkage only, of a
person the hub may not hold for KIM) are erased ``linkage_only_days`` after they arrived, on the
same path as every erasure, so their rows in delivered files and the documents addressed to them
go too.

An erasure request names the record as its source knows it: for a source whose ids the hub keeps
encrypted the clear id is encrypted to find the record (the token, as ``kim-hub links`` shows it,
is taken too). Its outbox documents are named by the token and its table rows by the clear id,
so both are looked for (``pipeline.record_ids``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.erasure import ErasureOutcome, erase_record, erase_records, expired_records
from kim_hub.hub_db.legal_basis import erase_linkage_only
from kim_hub.pipeline.copies import purge_expired, purge_for_erasure
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.ingest import finish_imported_leftovers
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.push import outbox_sink
from kim_hub.pipeline.record_ids import RecordIdForms

LINKAGE_ONLY = "held only for linkage, period over"


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
    """Per source: erase the records held only for linkage past ``linkage_only_days``
    (``linkage_only_purged``) and those of cases closed longer ago than its retention period (if it
    has one), then purge the copies of its deliveries kept longer than theirs.

    ``today``: the day to judge on (consents, periods), at its start; default: now."""
    forms = RecordIdForms.of(home, config)
    linkage_only = _purge_linkage_only(config, sessions, today)
    summary: dict[str, dict[str, int]] = {}
    for source, settings in config.sources.items():
        purged = linkage_only.get(source, ErasureOutcome())
        _clear_files(home, sessions, purged, forms)
        erased = ErasureOutcome()
        if settings.retention_days is not None:
            with sessions() as session, session.begin():
                erased = erase_records(
                    session, expired_records(session, source, settings.retention_days, today), "retention period over"
                )
            _clear_files(home, sessions, erased, forms)
        copies = purge_expired(home, source, settings, sessions)
        summary[source] = {
            "records_erased": erased.records_erased,
            "persons_erased": erased.persons_erased + purged.persons_erased,
            "linkage_only_purged": purged.records_erased,
            **copies.as_dict(),
        }
    return summary


def _purge_linkage_only(config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None) -> dict[str, ErasureOutcome]:
    """Erase, per source, its records held only for linkage for longer than its period (one
    transaction: what is erased is decided on the index as it is then)."""
    bases = source_bases(config)
    if not bases.linkage_only:
        return {}
    now = dt.datetime.now(dt.UTC) if today is None else dt.datetime.combine(today, dt.time(), dt.UTC)
    cutoffs = {source: now - dt.timedelta(days=config.sources[source].linkage_only_days) for source in bases.linkage_only}
    with sessions() as session, session.begin():
        return erase_linkage_only(session, bases, kim_policy(config, now.date()), cutoffs, LINKAGE_ONLY)


def _clear_files(home: HubHome, sessions: sessionmaker[Session], outcome: ErasureOutcome, forms: RecordIdForms) -> None:
    """The erased records' rows in delivered files, and documents addressed to them (files named
    by the stored id, table rows by the id the body knows)."""
    for source in sorted({source for source, _record_id in outcome.erased}):
        finish_imported_leftovers(home, source, sessions)
        purge_for_erasure(home, source, sessions)
    for source, stored in outcome.erased:
        outbox_sink(home, source).forget(forms.address(source, stored) or stored, file_id=stored)
