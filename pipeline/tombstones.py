"""Erasures recorded in the ledger, and the ledger applied again to a database that is older.

Every erasure (`kim-hub erase`, retention) goes through ``erase_recorded``: the records are
erased in a database transaction, the tombstone is appended to the erasure ledger and fsync-ed,
the transaction commits, the copies in files go (archive/ and failed/ of the source, documents
addressed to the records in its outbox), and only then does the database note the tombstone as
applied (``erasure_state``). A crash anywhere in between leaves the ledger ahead of the database.

``catch_up`` runs before anything else reads the database (``pipeline.database.open_sessions``,
and every command at its start): a database older than the ledger — restored from a backup,
or left behind by a crash — gets every tombstone after its mark applied again. The records
are found by the keyed digest of their source and id (the ledger holds nothing else), the
source's archived and failed deliveries and the documents in its outbox addressed to them are
removed as at the first erasure, and each re-application is audited with its counts.

A tombstone names a record by the digest of the id its source knows it by: for a source whose
ids the hub keeps encrypted (``pipeline.record_ids``), the token opened, so that the id in an
erasure request finds its tombstone, and a restored database is matched by opening its tokens.

A database *ahead* of the ledger means the ledger lost entries (deleted, or put back from an
older copy): the erasures it lost could never be applied to a restored backup again, so the hub
stops (FatalError) until the ledger is put back, or the loss is acknowledged and recorded
(``acknowledge_loss``, `kim-hub erasures --acknowledge-loss`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.database import checkpoint
from kim_hub.hub_db.erasure_ledger import RULE_LOST, ErasureLedger, Tombstone
from kim_hub.hub_db.erasure_state import applied_sequence, mark_applied, records_named
from kim_hub.hub_db.keystore import load_erasure_key
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.runtime.crashpoints import crash_point

if TYPE_CHECKING:
    from kim_hub.hub_db.erasure import ErasureOutcome
    from kim_hub.pipeline.record_ids import RecordIdForms

log = logging.getLogger(__name__)

REAPPLIED = "re-applied"


def erasure_ledger(home: HubHome, config: HubConfig) -> ErasureLedger:
    """The home's erasure ledger, its key read from the key folder when first needed."""
    key_dir = home.key_dir(config)
    return ErasureLedger(home.erasure_ledger(config), lambda: load_erasure_key(key_dir))


def erase_recorded(
    home: HubHome,
    sessions: sessionmaker[Session],
    ledger: ErasureLedger,
    forms: RecordIdForms,
    rule: str,
    source: str,
    find: Callable[[Session], list[int]],
) -> ErasureOutcome:
    """Erase the records ``find`` returns (primary keys, all of ``source``) and record a
    tombstone; the caller holds ``ledger.locked()`` and has caught up (``apply_pending``)."""
    from kim_hub.hub_db.erasure import erase_records

    sequence = ledger.last_sequence() + 1
    with sessions() as session, session.begin():
        outcome = erase_records(session, find(session), rule, sequence)
        if not outcome.records_erased:
            return outcome
        written = ledger.append(
            rule, source, [ledger.digest(s, known_id(forms, s, r)) for s, r in outcome.erased], outcome.removed
        )
        assert written.seq == sequence, "the ledger's lock keeps its sequence"
        crash_point("tombstone")
    crash_point("erased")
    clear_copies(home, sessions, forms, source, outcome.erased)
    with sessions() as session, session.begin():
        mark_applied(session, sequence)
    return outcome


def known_id(forms: RecordIdForms, source: str, stored: str) -> str:
    """The id the source knows a stored record by (an encrypting source's token opened), which
    the tombstone's digest is made of; a token that does not open stays as it is."""
    return forms.address(source, stored) or stored


def clear_copies(
    home: HubHome, sessions: sessionmaker[Session], forms: RecordIdForms, source: str, erased: Iterable[tuple[str, str]]
) -> None:
    """The copies in files of records erased from ``source``: a leftover a crashed run had
    imported is finished first, then the source's archived and failed deliveries go, and the
    documents addressed to the records in its outbox. (Imported here, not at the top: every
    command opens the database through this module, and only an erasure needs intake and push.)"""
    from kim_hub.pipeline.copies import purge_for_erasure
    from kim_hub.pipeline.ingest import finish_imported_leftovers
    from kim_hub.pipeline.push import outbox_sink

    finish_imported_leftovers(home, source, sessions)
    purge_for_erasure(home, source, sessions)
    sink = outbox_sink(home, source)
    for erased_source, stored in erased:
        if erased_source == source:  # files are named by the stored id, table rows by the id the body knows
            sink.forget(known_id(forms, source, stored), file_id=stored)


@dataclass(frozen=True)
class CatchUp:
    """What bringing a database up to the ledger did (counts only)."""

    tombstones: int = 0
    records_erased: int = 0
    persons_erased: int = 0
    documents_removed: int = 0


def catch_up(home: HubHome, config: HubConfig, sessions: sessionmaker[Session]) -> CatchUp:
    """Apply every tombstone the database has not applied yet (nothing, and no lock, when it is
    up to date: the usual case costs a read of the ledger's last line and of one row)."""
    ledger = erasure_ledger(home, config)
    last = ledger.last_sequence()
    applied = _applied(sessions, last)
    if applied == last:
        return CatchUp()
    if applied > last:
        raise _ledger_behind(ledger, applied, last)
    from kim_hub.pipeline.record_ids import RecordIdForms

    with ledger.locked():
        return apply_pending(home, sessions, ledger, RecordIdForms.of(home, config))


def apply_pending(home: HubHome, sessions: sessionmaker[Session], ledger: ErasureLedger, forms: RecordIdForms) -> CatchUp:
    """Under the ledger's lock: apply the tombstones after the database's mark, in order."""
    last = ledger.last_sequence()
    applied = _applied(sessions, last)
    if applied > last:
        raise _ledger_behind(ledger, applied, last)
    if applied == last:
        return CatchUp()
    done = CatchUp()
    for tombstone in ledger.pending(applied):
        done = _add(done, _reapply(home, sessions, ledger, forms, tombstone))
    if isinstance(engine := sessions.kw.get("bind"), Engine):
        checkpoint(engine)  # SQLite: the restored pages leave the write-ahead log now, not at some later close
    log.warning(
        "the database was older than the erasure ledger: %d erasure(s) applied again (%d records, %d persons)",
        done.tombstones,
        done.records_erased,
        done.persons_erased,
    )
    return done


def _reapply(
    home: HubHome, sessions: sessionmaker[Session], ledger: ErasureLedger, forms: RecordIdForms, tombstone: Tombstone
) -> CatchUp:
    """One tombstone applied again: its records (found by digest), the copies, the audit entry."""
    from kim_hub.hub_db.audit_log import append
    from kim_hub.hub_db.erasure import erase_records

    if tombstone.rule == RULE_LOST:
        with sessions() as session, session.begin():
            mark_applied(session, tombstone.seq)
        return CatchUp(tombstones=1)
    digests = set(tombstone.records)
    with sessions() as session, session.begin():
        found = records_named(session, tombstone.source, digests, lambda s, r: ledger.digest(s, known_id(forms, s, r)))
        outcome = erase_records(session, found, f"{tombstone.rule}, {REAPPLIED}", tombstone.seq)
        if not found:  # the fact of the re-application, also where nothing was left to erase
            detail = {"records": 0, "persons": 0, "reason": f"{tombstone.rule}, {REAPPLIED}", "ledger_sequence": tombstone.seq}
            append(session, "change", "erase.records", (), detail)
    clear_copies(home, sessions, forms, tombstone.source, outcome.erased)
    removed = _forget_named(home, forms, tombstone.source, digests, ledger)
    with sessions() as session, session.begin():
        mark_applied(session, tombstone.seq)
    return CatchUp(1, outcome.records_erased, outcome.persons_erased, removed)


def _forget_named(home: HubHome, forms: RecordIdForms, source: str, digests: set[str], ledger: ErasureLedger) -> int:
    """Documents in the source's outbox addressed to a record the tombstone names, though the
    database no longer knows it (a crash after the erasure committed, before its outbox was
    cleared): the outbox's own record ids (as the body knows them) are matched by digest."""
    from kim_hub.pipeline.push import outbox_sink

    sink = outbox_sink(home, source)
    return sum(
        sink.forget(known, file_id=forms.stored(source, known))
        for known in sink.addressed_records()
        if ledger.digest(source, known) in digests
    )


def tombstones_naming(home: HubHome, config: HubConfig, source: str, record_id: str) -> list[Tombstone]:
    """The tombstones that name one record, given as its source knows it (or as the hub showed
    it: an encrypting source's token): a deletion proven without the data."""
    from kim_hub.pipeline.record_ids import RecordIdForms

    forms = RecordIdForms.of(home, config)
    stored = forms.stored(source, record_id.strip())
    return erasure_ledger(home, config).find(source, known_id(forms, source, stored))


def acknowledge_loss(home: HubHome, config: HubConfig, sessions: sessionmaker[Session]) -> Tombstone | None:
    """Record in the ledger that the entries between its last one and the database's mark are
    lost, so that the hub runs again; None when nothing is lost. The erasures those entries
    recorded can no longer be applied to an older backup: retire such backups (docs/operations.md)."""
    ledger = erasure_ledger(home, config)
    with ledger.locked():
        last = ledger.last_sequence()
        applied = _applied(sessions, last)
        if applied <= last:
            return None
        return ledger.append(RULE_LOST, "", [], {}, lost=(last + 1, applied))


def _applied(sessions: sessionmaker[Session], last: int) -> int:
    """The database's mark. A database from before the ledger has no mark yet: with an empty
    ledger that is fine (0); with tombstones to apply, the schema must be brought up first."""
    with sessions() as session:
        try:
            return applied_sequence(session)
        except DBAPIError:
            session.rollback()
            if inspect(session.connection()).has_table("erasure_state"):
                raise
    if last == 0:
        return 0
    raise ConfigError("the database has no erasure state (it predates this version of kim-hub): run 'kim-hub init' first")


def _ledger_behind(ledger: ErasureLedger, applied: int, last: int) -> FatalError:
    return FatalError(
        f"the erasure ledger {ledger.path} ends at tombstone {last}, but the database has applied {applied}: "
        "the ledger lost entries (deleted, or put back from an older copy). Put the newest copy of the ledger back; "
        "if there is none, record the loss with `kim-hub erasures --acknowledge-loss` (docs/operations.md)"
    )


def _add(a: CatchUp, b: CatchUp) -> CatchUp:
    return CatchUp(
        a.tombstones + b.tombstones,
        a.records_erased + b.records_erased,
        a.persons_erased + b.persons_erased,
        a.documents_removed + b.documents_removed,
    )
