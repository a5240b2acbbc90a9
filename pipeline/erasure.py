"""Erasure requests and the retention rule, applied to the database, the source's deliveries and
the outboxes, each recorded as a tombstone in the erasure ledger (``pipeline.tombstones``), so
that a restored backup loses the records again. Recipients who received data of an erased
record get an erasure notice from the next push (the CLI and the retention flow run one right
after).

The copies of deliveries (archive/, failed/, receipts) have periods of their own, applied here
for every source whether or not its records have a retention period (``pipeline.copies``), and
so do the files in reports/ (``[retention] reports_days``).

Records held only for linkage (``exchange.legal_basis``: from a statute for linkage only, of a
person the hub may not hold for KIM) are erased ``linkage_only_days`` after they arrived, on the
same path as every erasure, so their rows in delivered files and the documents addressed to them
go too.

An erasure request names the record as its source knows it: for a source whose ids the hub keeps
encrypted the clear id is encrypted to find the record (the token, as ``kim-hub links`` shows it,
is taken too). Its outbox documents are named by the token and its table rows by the clear id,
so both are looked for (``pipeline.record_ids``), and its tombstone names it by the digest of the
id the source knows (``pipeline.tombstones``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.drop_folder import purge_folder
from kim_hub.exchange.legal_basis import SourceBases
from kim_hub.hub_db.audit_log import append
from kim_hub.hub_db.erasure import ErasureOutcome, expired_records, record_key
from kim_hub.hub_db.erasure_ledger import RULE_REQUEST, RULE_RETENTION, RULE_STATUTE
from kim_hub.hub_db.legal_basis import linkage_only_records
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.pipeline.copies import PERIOD_OVER, purge_expired
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.tombstones import apply_pending, erase_recorded, erasure_ledger


def erase(
    home: HubHome, sessions: sessionmaker[Session], source: str, record_id: str, config: HubConfig | None = None
) -> ErasureOutcome:
    """Erase one record everywhere, with its tombstone; the source's archived and failed
    deliveries (which may hold it in clear) go too. An unknown record erases nothing and leaves
    no tombstone.

    ``record_id`` as the source knows it (or as stored: the token of an encrypting source)."""
    config = config or home.load_config()
    forms = RecordIdForms.of(home, config)
    stored = forms.stored(source, record_id.strip())
    ledger = erasure_ledger(home, config)
    with ledger.locked():
        apply_pending(home, sessions, ledger, forms)  # a tombstone is only ever added to a database that has all before it
        return erase_recorded(home, sessions, ledger, forms, RULE_REQUEST, source, lambda s: record_key(s, source, stored))


def apply_retention(
    home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None
) -> dict[str, dict[str, int]]:
    """Per source: erase the records held only for linkage past ``linkage_only_days``
    (``linkage_only_purged``, tombstones of rule "statutory purge") and those of cases closed longer
    ago than its retention period (if it has one), then purge the copies of its deliveries kept
    longer than theirs; last, the files in reports/ past ``[retention] reports_days``.

    ``today``: the day to judge on (consents, periods), at its start; default: now."""
    summary: dict[str, dict[str, int]] = {}
    ledger = erasure_ledger(home, config)
    forms = RecordIdForms.of(home, config)
    bases = source_bases(config)
    now = dt.datetime.now(dt.UTC) if today is None else dt.datetime.combine(today, dt.time(), dt.UTC)
    with ledger.locked():
        apply_pending(home, sessions, ledger, forms)
        for source, settings in config.sources.items():
            purged = erased = ErasureOutcome()
            if source in bases.linkage_only:
                cutoff = now - dt.timedelta(days=settings.linkage_only_days)
                finder = _linkage_only(config, bases, source, cutoff, now.date())
                purged = erase_recorded(home, sessions, ledger, forms, RULE_STATUTE, source, finder)
            if (days := settings.retention_days) is not None:
                erased = erase_recorded(home, sessions, ledger, forms, RULE_RETENTION, source, _expired(source, days, today))
            copies = purge_expired(home, source, settings, sessions)
            summary[source] = {
                "records_erased": erased.records_erased,
                "persons_erased": erased.persons_erased + purged.persons_erased,
                "linkage_only_purged": purged.records_erased,
                **copies.as_dict(),
            }
    purge_reports(home, config, sessions)
    return summary


def _linkage_only(
    config: HubConfig, bases: SourceBases, source: str, cutoff: dt.datetime, day: dt.date
) -> Callable[[Session], list[int]]:
    """The finder of a source's records held only for linkage that arrived before ``cutoff`` (for
    ``erase_recorded``). The linking lock is taken before they are read: a link run that joins one
    of them to a consenting person in the meantime would otherwise lose it to a decision made on
    the index before it."""

    def find(session: Session) -> list[int]:
        hold(session, LINKING)
        return linkage_only_records(session, bases, kim_policy(config, day), {source: cutoff}).get(source, [])

    return find


def _expired(source: str, days: float, today: dt.date | None) -> Callable[[Session], list[int]]:
    """The finder of a source's records past its retention period (for ``erase_recorded``)."""
    return lambda session: expired_records(session, source, days, today)


def purge_reports(home: HubHome, config: HubConfig, sessions: sessionmaker[Session]) -> int:
    """Remove the files in reports/ written longer ago than ``reports_days`` (none: kept); the
    purge is audited as a count."""
    days = config.retention.reports_days
    if days is None:
        return 0
    removed = purge_folder(home.reports, days)
    if removed:
        with sessions() as session, session.begin():
            append(session, "change", "reports.purge", (), {"reason": PERIOD_OVER, "reports_purged": removed})
    return removed
