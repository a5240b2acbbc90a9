"""Key rotation: every encoding re-made with a new key, not a single link lost, the old key destroyed.

HMAC encodings cannot be re-keyed in place — that is the point of them — so identity is
re-derived from the sources' own deliveries still in ``archive/`` (and ``processing/``). For each
stored record the newest delivered row whose *old* keyed content hash equals the stored one is
exactly the state the hub holds; it is encoded again with the new key, and sealed with it
(``linkage.sealed``): the index snapshot, sealed with the old one, is dropped and rebuilt by the
next link run. Links, persons, events and
review items hang on the record's primary key, so they are untouched: no link can be lost.

All records are re-keyed in one transaction. When a record cannot be found in any delivery (its
archive was purged, say), nothing changes: the new key is discarded, the old one stays current,
and the operator learns how many records per source are missing — a fresh full delivery of those
sources, then another rotation, completes it.

The record-id key of the key version rotates with it. A record id kept encrypted (the job
centre's, ``pipeline.record_ids``) is re-derived like the rest, so it gets the new key's token in
the same transaction (the audit log names records by a token of the id the body knows, which a
rotation does not change: ``pipeline.database.auditor_for``). After
the commit the body's outbox documents named by an old token are renamed to the new one, so a
later notice or erasure finds them. The transfers' content hashes were made from documents
addressed by the old token, so the next push sends those bodies their current summaries once
more (under the new names): a one-time cost of a rotation, never a lost or a doubled document. Either way the rotation is
an admin entry of the audit log (the audit log's own key is never rotated:
``hub_db.keystore.create_audit_key``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.base import FileConnector
from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.connectors.registry import is_file_connector, load_connector
from kim_hub.hub_db import learnt_names
from kim_hub.hub_db.index_snapshot import drop as forget_snapshot
from kim_hub.hub_db.keystore import create_key, current_key_id, destroy_key, load_keys, next_key_id, set_current
from kim_hub.hub_db.models import SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of_sessions
from kim_hub.linkage.encode import forget_cached_encodings
from kim_hub.linkage.encoding_bytes import forget_cached_packing
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.pseudonymise import pseudonymise
from kim_hub.linkage.record_ids import TOKEN_PREFIX
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.vocabulary import Vocabulary
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.pipeline.ingest import reader_for, source_mapper
from kim_hub.pipeline.push import outbox_sink
from kim_hub.pipeline.vocabulary import vocabulary


@dataclass
class RotationOutcome:
    old_key: str
    new_key: str
    records_rekeyed: int = 0
    missing: dict[str, int] = field(default_factory=dict)  # source → records without a delivery
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)  # source → old → new id (encrypted ids)
    outbox_documents_renamed: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing


class _IncompleteRotationError(Exception):
    """Some record has no delivery to re-derive it from."""


def rotate_keys(home: HubHome, config: HubConfig, sessions: sessionmaker[Session]) -> RotationOutcome:
    """Re-key every record with a new key version; switch and destroy the old key only if all were."""
    key_dir = home.key_dir(config)
    old_id = current_key_id(key_dir)
    new_id = next_key_id(key_dir)
    create_key(key_dir, new_id, make_current=False)
    old_keys, new_keys = load_keys(key_dir, old_id), load_keys(key_dir, new_id)
    words = vocabulary(home, config)  # the rows are mapped as the ingest mapped them
    outcome = RotationOutcome(old_id, new_id)
    try:
        with sessions() as session, session.begin():
            for source, settings in config.sources.items():
                outcome.records_rekeyed += _rekey_source(session, home, source, settings, (old_keys, new_keys), outcome, words)
            if not outcome.complete:
                raise _IncompleteRotationError  # roll back: all records under one key, or none moved
            forget_snapshot(session)  # sealed under the old key: rebuilt, sealed under the new, by the next link run
            learnt_names.forget(session)  # the old key's name tokens: learnt again by the next link run
    except _IncompleteRotationError:
        pass
    if outcome.complete:
        set_current(key_dir, new_id)
        destroy_key(key_dir, old_id)
        for source, renamed in outcome.renamed.items():
            outcome.outbox_documents_renamed += outbox_sink(home, source).rename(renamed)
    else:
        destroy_key(key_dir, new_id)
        outcome.records_rekeyed = 0
        outcome.renamed = {}
    forget_cached_encodings()  # nothing derived from the destroyed key stays in this process
    forget_cached_packing()
    ring = keyring_of_sessions(sessions)
    if ring is not None:
        ring.forget()
    record_admin(
        sessions,
        "keys.rotate",
        {"old_key": old_id, "new_key": new_id, "complete": outcome.complete, "records_rekeyed": outcome.records_rekeyed},
    )
    return outcome


def _rekey_source(
    session: Session,
    home: HubHome,
    source: str,
    settings: SourceConfig,
    keys: tuple[EncodingKeys, EncodingKeys],
    outcome: RotationOutcome,
    words: Vocabulary,
) -> int:
    """Re-key the records of one source with ``keys`` (old, new); returns how many were."""
    old_keys, new_keys = keys
    azr_authoritative = settings.azr_authoritative
    stored = {r.record_id: r for r in session.execute(select(SourceRecord).where(SourceRecord.source == source)).scalars()}
    pending = {record_id for record_id, record in stored.items() if record.key_id == old_keys.key_id}
    readers = [c for c in (load_connector(n) for n in settings.connectors) if is_file_connector(c)]
    renamed: dict[str, str] = {}
    for summary in _delivered_summaries(home, source, readers, settings, words):
        old = pseudonymise(summary, old_keys, azr_authoritative)
        record = stored.get(old.record_id)
        if old.record_id not in pending or record is None or record.content_hash != old.content_hash:
            continue  # not held, already re-keyed, or an older state than the one held
        new = pseudonymise(summary, new_keys, azr_authoritative)
        record.record_id, record.encoding, record.key_id, record.content_hash = (
            new.record_id,
            new.encoding,
            new.key_id,
            new.content_hash,
        )
        pending.discard(old.record_id)
        if new.record_id != old.record_id and new.record_id.startswith(TOKEN_PREFIX):
            renamed[old.record_id] = new.record_id
    if pending:
        outcome.missing[source] = len(pending)
    if renamed:
        outcome.renamed[source] = renamed
    return len(stored) - len(pending)


def _delivered_summaries(
    home: HubHome,
    source: str,
    readers: list[type[FileConnector]],
    settings: SourceConfig,
    words: Vocabulary,
) -> list[CaseSummary]:
    """Every mappable row of the source's kept deliveries, newest file last."""
    folder = DropFolder.under(home.path, source)
    files: list[Path] = []
    for directory in (folder.archive, folder.processing):
        if directory.is_dir():
            files += [p for p in directory.iterdir() if p.is_file() and not p.is_symlink()]
    summaries: list[CaseSummary] = []
    for path in sorted(files, key=lambda p: p.stat().st_mtime):
        reader = reader_for(path, readers)
        if reader is None:
            continue
        batch = reader.read_file(path)
        mapper = source_mapper(reader.row_format, settings, words)
        summaries += [m for m in (mapper(source, row) for row in batch.rows) if isinstance(m, CaseSummary)]
    return summaries
