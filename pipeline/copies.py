"""The hub's copies of deliveries: each kept for its own period, and gone with an erased record.

A delivered file leaves copies under the home that hold persons in clear or speak of them:

    archive/<source>/           deliveries that landed            archive_days (from the claim)
    failed/<source>/            rejected whole or set aside       failed_days (from the claim)
    outbox/<source>/receipts/   one receipt per delivery          receipt_days, else its delivery's
    processing/<source>/        files in flight                   none: intake moves each on to
                                                                  archive/ or failed/ (a file it
                                                                  died on twice goes to failed/)

``purge_expired`` applies the periods (every ingest of the source, and the retention flow).
``purge_for_erasure`` applies an erasure: the hub cannot tell which delivery holds the erased
row without reading each one, and for a failed delivery often not even then (it failed because
it could not be read; an XLSX is compressed; the authority's record id is a digest of the AZR
number, never in the file), so every archived and every failed delivery of the record's source
goes. Every purge is an entry of the audit log's change channel (``copies.purge``) — source,
reason, how many of each kind — never a file name (senders name files after persons), a hash or
content.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from kim_hub.connectors.drop_folder import DropFolder, purge_folder
from kim_hub.connectors.receipts import purge_receipts
from kim_hub.pipeline.home import HubHome, SourceConfig

if TYPE_CHECKING:  # what purges needs the database; ``copies_due`` (a sync's look for work) does not
    from sqlalchemy.orm import Session, sessionmaker

PERIOD_OVER = "period over"
ERASURE = "erasure"


@dataclass(frozen=True)
class CopiesPurged:
    """How many copies of one source's deliveries a purge removed (fixed metric names)."""

    archive_purged: int = 0
    failed_purged: int = 0
    receipts_purged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.archive_purged or self.failed_purged or self.receipts_purged)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge_expired(home: HubHome, source: str, settings: SourceConfig, sessions: sessionmaker[Session]) -> CopiesPurged:
    """Remove the source's archived and failed deliveries and receipts kept longer than their periods."""
    purged = _past_period(home, source, settings, dry_run=False)
    _audit(sessions, source, PERIOD_OVER, purged)
    return purged


def copies_due(home: HubHome, source: str, settings: SourceConfig) -> CopiesPurged:
    """How many copies ``purge_expired`` would remove now, nothing removed (`kim-hub retention --plan`)."""
    return _past_period(home, source, settings, dry_run=True)


def _past_period(home: HubHome, source: str, settings: SourceConfig, dry_run: bool) -> CopiesPurged:
    folder = DropFolder.under(home.path, source)
    receipts_delivered = settings.archive_days if settings.receipt_days is None else settings.receipt_days
    receipts_set_aside = settings.failed_days if settings.receipt_days is None else settings.receipt_days
    return CopiesPurged(
        archive_purged=purge_folder(folder.archive, settings.archive_days, dry_run),
        failed_purged=purge_folder(folder.failed, settings.failed_days, dry_run),
        receipts_purged=purge_receipts(home.outbox(source, "receipts"), receipts_delivered, receipts_set_aside, dry_run),
    )


def purge_for_erasure(home: HubHome, source: str, sessions: sessionmaker[Session]) -> CopiesPurged:
    """Remove every archived and every failed delivery of a source a record was erased from.

    Receipts stay (they hold no value and no record id: row numbers, fields and reasons); a
    crashed run's leftover that was already imported must be finished first
    (``ingest.finish_imported_leftovers``), so that it lies in archive/ or failed/ here."""
    folder = DropFolder.under(home.path, source)
    purged = CopiesPurged(archive_purged=folder.purge_archive(None), failed_purged=folder.purge_failed(None))
    _audit(sessions, source, ERASURE, purged)
    return purged


def _audit(sessions: sessionmaker[Session], source: str, reason: str, purged: CopiesPurged) -> None:
    """The fact of a purge, in the audit log (`kim-hub audit --action copies.purge`)."""
    from kim_hub.hub_db.audit_log import append

    if purged.any:
        with sessions() as session, session.begin():
            append(session, "change", "copies.purge", (), {"source": source, "reason": reason, **purged.as_dict()})
