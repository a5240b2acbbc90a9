"""One sync cycle for one source, as plain functions the Prefect tasks wrap.

The data path, top to bottom, per delivered file:

    drop folder              inbox → processing (atomic claim) … → archive / failed
    connector.read_file      bytes → rows (+ rejections for unreadable rows)
    mapping                  row → CaseSummary (+ rejections naming row and field), record ids
                             under the record-id rule (mappings.record_ids), identifiers under
                             the identifier policy (mappings.identifier_policy)
    pseudonymise             identity → keyed encodings; identity dropped here
    hub_db.records           store records, rejections and the ledger entry in one transaction
    receipt                  outbox/<source>/receipts/<file>.receipt.json + .txt

Nothing raised while one file is read, mapped, encoded or stored stops the run: the file's
transaction is rolled back, the file is set aside in ``failed/`` with a receipt naming the kind of
failure (the exception's type, never its message, which may quote a value), and the next file
follows. A file the hub was importing when the process died twice is set aside the same way
instead of being retried for ever. Only errors that may go away by themselves (a locked or
unreachable database) propagate, for the task's retry.

Linking into the master index runs once after all sources (``pipeline.linking``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.base import FileConnector, PullConnector
from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.connectors.provider_json import ProviderJsonConnector
from kim_hub.connectors.receipts import Receipt, write_receipt
from kim_hub.connectors.registry import is_file_connector, is_pull_connector, load_connector
from kim_hub.core.errors import BadInputError, ConfigError, TransientError
from kim_hub.core.rows import FileBatch, Note, RawRow, Rejection, StreamRejectedError, too_many_rows
from kim_hub.hub_db.audit_log import append, file_object
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.models import IngestFile
from kim_hub.hub_db.records import FileOutcome, apply_snapshot, ledger_entry, notes_of, rejections_of, store_file
from kim_hub.hub_db.source_state import load_state, save_state
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.contract import contract_for
from kim_hub.mappings.identifier_policy import fenced
from kim_hub.mappings.record_ids import guarded
from kim_hub.mappings.registry import RowMapper, load_mapping
from kim_hub.mappings.vocabulary import Vocabulary
from kim_hub.pipeline.copies import purge_expired
from kim_hub.pipeline.encoded_file import EncodedFile
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.pipeline.home_access import ensure_source
from kim_hub.pipeline.record_ids import check_form, seals_record_ids
from kim_hub.pipeline.vocabulary import vocabulary
from kim_hub.runtime import progress
from kim_hub.runtime.crashpoints import crash_point
from kim_hub.runtime.gc_pause import cyclic_gc_paused

# Larger files are refused with a receipt. A nightly full export of ~300,000 people is about 100 MB.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ROWS = 2_000_000  # rows per delivered file (source option max_rows): a city's exports hold far fewer
# A leftover in processing/ is retried after the hub died while importing it, but not for ever:
# the file the hub died on twice (out of memory, say) is set aside like a file that failed.
# KIM_HUB_MAX_INTERRUPTED_ATTEMPTS changes the count: the crash-consistency test, which kills
# the hub at random moments on purpose, must not have its files blamed for it.
MAX_INTERRUPTED_ATTEMPTS_ENV = "KIM_HUB_MAX_INTERRUPTED_ATTEMPTS"
MAX_INTERRUPTED_ATTEMPTS = 2


def max_interrupted_attempts() -> int:
    value = os.environ.get(MAX_INTERRUPTED_ATTEMPTS_ENV, "").strip()
    return int(value) if value.isascii() and value.isdigit() else MAX_INTERRUPTED_ATTEMPTS


@dataclass
class SourceOutcome:
    """What one source's sync cycle did (fixed metric names)."""

    source: str
    files_seen: int = 0
    files_ingested: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    files_failed: int = 0  # set aside because the hub could not process them
    records_in: int = 0
    records_accepted: int = 0
    records_unchanged: int = 0
    records_rejected: int = 0
    files: list[FileOutcome] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        self.files.append(outcome)
        self.files_seen += 1
        if outcome.status == "skipped":
            self.files_skipped += 1
            return
        self.files_ingested += outcome.status == "done"
        self.files_rejected += outcome.status == "rejected"
        self.files_failed += outcome.status == "failed"
        self.records_in += outcome.rows_total
        self.records_accepted += outcome.accepted
        self.records_unchanged += outcome.unchanged
        self.records_rejected += outcome.rejected

    def as_dict(self) -> dict[str, int | str]:
        return {k: v for k, v in self.__dict__.items() if k != "files"}


def ingest_source(
    home: HubHome,
    config: HubConfig,
    source: str,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
) -> SourceOutcome:
    """One source's cycle: its ready files (claim, read, map, pseudonymise, store, receipt),
    then its API connectors (pull from the stored cursor).

    A source whose stored record ids are not in the form its settings ask for (clear where they
    are to be encrypted) is not ingested at all: ConfigError, the files wait (pipeline.record_ids)."""
    settings = config.sources[source]
    sealed = seals_record_ids(settings)
    with sessions() as session:
        check_form(session, source, sealed)
    connectors = [load_connector(name) for name in settings.connectors]
    readers = file_readers(connectors)
    pullers = [c for c in connectors if is_pull_connector(c)]
    folder = DropFolder.under(home.path, source)
    ensure_source(home, config, source)  # a missing inbox or outbox is made with the body's group and mode
    words = vocabulary(home, config)  # before any claim: a broken district list fails the source, the files wait
    outcome = SourceOutcome(source)
    pending = folder.pending(settings.settle_seconds)
    if progress.watching():  # a terminal's bar: the rows expected of this source's files (runtime.progress)
        expected = estimated_rows(pending, readers)
        for phase in ("read", "encode", "store"):
            progress.begin(phase, expected, source)
    for path in pending:
        done = _ingest_one(home, path, source, readers, settings, keys, sessions, words)
        if done is not None:
            outcome.add(done[0])
    purge_expired(home, source, settings, sessions)  # archive/, failed/ and receipts past their periods
    for puller in pullers:
        outcome.add(pull_source(puller, source, settings, keys, sessions, words))
    progress.settle("read", "encode", "store")
    return outcome


def estimated_rows(paths: Sequence[Path], readers: Sequence[type[FileConnector]]) -> int | None:
    """About how many rows the files hold, for a progress bar (``FileConnector.estimated_rows``);
    None when a file's reader cannot tell before reading it. Never raises: a file that cannot
    even be looked at is the ingest's to refuse, not the bar's."""
    total = 0
    for path in paths:
        try:
            regular = stat.S_ISREG(path.lstat().st_mode)  # never follow a link: the intake refuses it unread
            reader = reader_for(path, readers) if regular else None
            rows = reader.estimated_rows(path) if reader is not None else 0
        except OSError:
            rows = None
        if rows is None:
            return None
        total += rows
    return total


def file_readers(connectors: Sequence[Any]) -> list[type[FileConnector]]:
    """The file connectors of a source, and the JSON batch of case records
    (``connectors.provider_json``) for a source that reads the standard provider export: a
    delivery over the providers' HTTP API may be such a batch, and a copy of it left in
    processing/ by a crash is finished by the next run like any file."""
    readers: list[type[FileConnector]] = [c for c in connectors if is_file_connector(c)]
    if any(r.row_format == ProviderJsonConnector.row_format for r in readers) and ProviderJsonConnector not in readers:
        readers.append(ProviderJsonConnector)
    return readers


def ingest_delivery(
    home: HubHome,
    config: HubConfig,
    source: str,
    path: Path,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
) -> tuple[FileOutcome, Receipt] | None:
    """One delivered file of the source's drop path (the inbox, where the providers' API writes
    an upload), ingested at once exactly as a sync run ingests it: claim, read, map, pseudonymise,
    store, receipt, archive or set aside. None: another run claimed it first (that run writes
    the receipt)."""
    settings = config.sources[source]
    with sessions() as session:
        check_form(session, source, seals_record_ids(settings))
    readers = file_readers([load_connector(name) for name in settings.connectors])
    ensure_source(home, config, source)
    words = vocabulary(home, config)
    return _ingest_one(home, path, source, readers, settings, keys, sessions, words)


def _ingest_one(
    home: HubHome,
    path: Path,
    source: str,
    readers: Sequence[type[FileConnector]],
    settings: SourceConfig,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
    words: Vocabulary,
) -> tuple[FileOutcome, Receipt] | None:
    """Claim one file, ingest it (or refuse or set it aside), write its receipt and move it on;
    None when it was not ours to claim."""
    folder = DropFolder.under(home.path, source)
    with folder.claimed(path) as claim, cyclic_gc_paused():  # a file is one bulk load (runtime.gc_pause)
        if claim is None:
            return None  # another run claimed it first, or is still working on it
        claimed = claim.path
        crash_point("claim")
        if claim.refused is not None:
            result, receipt = _refused(claimed, source, claim.refused)
        elif folder.note_attempt(claimed) > max_interrupted_attempts():
            result, receipt = _set_aside(claim.to_read, source, INTERRUPTED)
        else:
            notes = [Note(_display_name(claimed.name), None, None, FUTURE_DATED)] if claim.future_dated else []
            result, receipt = _ingest_claimed(claim.to_read, source, readers, settings, keys, sessions, notes, words)
        crash_point("ledger")
        write_receipt(home.outbox(source, "receipts"), receipt)
        crash_point("receipt")
        folder.finish(claimed, failed=result.status in ("rejected", "failed"))
        return result, receipt


def finish_imported_leftovers(home: HubHome, source: str, sessions: sessionmaker[Session]) -> int:
    """Finish what a crashed run left in processing/ after its content was imported: write its
    receipt (rebuilt from the ledger, as the next run would) and move it on to archive/ or
    failed/; returns how many. An erasure calls this before it purges those folders, so the
    erased row does not stay in a leftover the next run would archive after the purge.

    A leftover not imported yet is a delivery still to come, like a file in the inbox: it stays
    for the next run. A file another process holds is that process's to move on."""
    folder = DropFolder.under(home.path, source)
    finished = 0
    for path in folder.leftovers():
        with folder.claimed(path) as claim:
            if claim is None or claim.refused is not None:
                continue  # held by a live run, or not one regular file: intake refuses it into failed/
            with claim.to_read.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            with sessions() as session:
                earlier = ledger_entry(session, source, digest)
                if earlier is None:
                    continue
                rejected = earlier.status == "rejected"
                write_receipt(home.outbox(source, "receipts"), _receipt(session, earlier, _display_name(claim.path.name)))
            folder.finish(claim.path, failed=rejected)
            finished += 1
    return finished


INTERRUPTED = "interrupted twice"  # the kind of failure of a file the hub died on twice
FUTURE_DATED = "the file's modification time lay in the future (a clock is wrong); it was taken once it stood still"


def _ingest_claimed(
    claimed: Path,
    source: str,
    readers: Sequence[type[FileConnector]],
    settings: SourceConfig,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
    file_notes: Sequence[Note] = (),
    words: Vocabulary | None = None,
) -> tuple[FileOutcome, Receipt]:
    """Read, map, encode and store one claimed file (``claimed``: what to read it by, under its
    own name; see ``Claim.readable``); anything it raises sets the file aside."""
    try:
        batch, reader = _read_delivery(claimed, readers, settings.connectors, settings.options)
        sealed = seals_record_ids(settings)
        try:
            return store_batch(
                EncodedFile(
                    source,
                    batch,
                    _mapper(reader, settings, words),
                    keys,
                    settings.azr_authoritative,
                    file_notes,
                    sealed,
                ),
                _display_name(claimed.name),
                sessions,
                full_snapshot=reader is not None and reader.full_snapshot,
            )
        except StreamRejectedError as rejected:  # found part-way through a stream: its transaction rolled back
            whole = _rejected_whole(claimed, rejected.reason)
            return store_batch(EncodedFile(source, whole, _no_rows, keys, False), _display_name(claimed.name), sessions)
    except (TransientError, OperationalError, InterfaceError):
        raise  # may go away by itself: the task retries, and the ledger makes the retry exact
    except ConfigError:
        raise  # the source's configuration, not the file, is at fault: the source fails, the file waits
    except Exception as error:  # noqa: BLE001 - one file's failure must never stop the run
        return _set_aside(claimed, source, type(error).__name__)


def _set_aside(path: Path, source: str, kind: str) -> tuple[FileOutcome, Receipt]:
    """The outcome and receipt of a file the hub could not process: nothing of it was stored (its
    transaction was rolled back), so a corrected or re-sent delivery is read afresh."""
    name = _display_name(path.name)
    reason = f"the hub could not process this file ({kind}); nothing of it was stored; it was set aside"
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    received = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    receipt = Receipt(source, name, digest, "failed", received, rejections=[Rejection(name, None, None, reason)])
    return FileOutcome(source, name, "failed"), receipt


def _refused(path: Path, source: str, reason: str) -> tuple[FileOutcome, Receipt]:
    """The outcome and receipt of an entry that is not one regular file (a symlink, a FIFO, a
    hard link): rejected whole and never opened, so its receipt carries no hash."""
    name = _display_name(path.name)
    received = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    receipt = Receipt(source, name, "", "rejected", received, rejections=[Rejection(name, None, None, reason)])
    return FileOutcome(source, name, "rejected"), receipt


def _read_delivery(
    path: Path, readers: Sequence[type[FileConnector]], configured: list[str], options: dict[str, str]
) -> tuple[FileBatch, type[FileConnector] | None]:
    """Read a claimed file with the first connector that takes it, or reject it whole.

    Connectors read a file into memory, so a file above the size limit (source option
    ``max_file_bytes``, default MAX_FILE_BYTES) is refused unread; a file a connector cannot
    read at all (BadInputError) is rejected whole too: one bad delivery never stops the run.
    """
    limit = _count_option(options, "max_file_bytes", MAX_FILE_BYTES)
    size = path.stat().st_size
    if size > limit:
        reason = f"file has {size} bytes, more than the limit of {limit}; split the export into smaller files"
        return _rejected_whole(path, reason), None
    reader = reader_for(path, readers)
    if reader is None:
        return _unreadable(path, configured), None
    try:
        batch = reader.stream_file(path)
    except BadInputError as exc:
        return _rejected_whole(path, str(exc)), None
    row_limit = _count_option(options, "max_rows", MAX_ROWS)
    if batch.limit_rows(row_limit):  # a stream is held to the limit as it is read
        return _rejected_whole(path, too_many_rows(row_limit)), None
    return batch, reader


def _count_option(options: Mapping[str, str], name: str, default: int) -> int:
    """A source's numeric option (hub.toml ``[sources.<name>.options]``), else the default."""
    value = options.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ConfigError(f"source option {name} must be a whole number")
    return int(value)


def _display_name(name: str) -> str:
    """The file name as text the database and receipts can hold: bytes that are not UTF-8
    (a name written by a Windows-1252 system) become U+FFFD instead of stopping the run."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def reader_for(path: Path, readers: Sequence[type[FileConnector]]) -> type[FileConnector] | None:
    """The first configured connector that takes this file."""
    return next((reader for reader in readers if reader.accepts(path)), None)


def _unreadable(path: Path, configured: list[str]) -> FileBatch:
    """A file no configured connector takes: rejected whole, so the sender hears about it."""
    return _rejected_whole(path, f"no configured connector ({', '.join(configured)}) reads this kind of file")


def _rejected_whole(path: Path, reason: str) -> FileBatch:
    with path.open("rb") as handle:  # hashed in chunks: a refused file is never held in memory
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return FileBatch(path, digest, rejections=[Rejection(path.name, None, None, reason)], rejected_whole=True)


def _mapper(
    connector: type[FileConnector] | type[PullConnector] | None,
    settings: SourceConfig,
    words: Vocabulary | None = None,
) -> RowMapper:
    """The mapping of the connector's row format under the source's settings (``source_mapper``)."""
    return source_mapper(connector.row_format, settings, words) if connector is not None else _no_rows


def source_mapper(row_format: str, settings: SourceConfig, words: Vocabulary | None = None) -> RowMapper:
    """The mapping registered for a row format (``kim_hub.mappings.registry``), settling flawed
    fields by the format's field contract as the source tightens it (``[sources.<name>.contract]``),
    reading district, goals and consent recipients against the installation's vocabulary
    (``pipeline.vocabulary``), its record ids under the record-id rule (``mappings.record_ids``;
    encrypted where the source's ids are kept so) and its identifiers under the identifier policy
    (``mappings.identifier_policy``: what the source may not deliver is dropped before anything is
    encoded). A plug-in mapping that takes neither contract nor vocabulary settles its fields
    itself; the record-id rule and the identifier policy hold for every mapping."""
    mapping = load_mapping(row_format)
    parameters = inspect.signature(mapping).parameters
    configured: dict[str, Any] = {}
    if "contract" in parameters:
        configured["contract"] = contract_for(row_format).tightened(settings.contract)
    if "vocabulary" in parameters and words is not None:
        configured["vocabulary"] = words
    if configured:
        takes_settings = cast("Callable[..., CaseSummary | list[Rejection]]", mapping)  # it takes them: checked just above
        mapping = partial(takes_settings, **configured)
    return fenced(guarded(mapping, seals_record_ids(settings)), settings.taken_identifiers)


def _no_rows(source: str, row: RawRow) -> list[Rejection]:
    """The mapping of a file no connector read: it has no rows, so this is never asked."""
    return [Rejection(row.file, row.row_number, None, "file rejected as a whole")]


def pull_source(
    connector_class: type[PullConnector],
    source: str,
    settings: SourceConfig,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
    words: Vocabulary | None = None,
) -> FileOutcome:
    """Pull an API connector from its stored cursor; the batch and the new cursor commit together."""
    connector = connector_class(connector_class.config_model.from_options(settings.options))
    sealed = seals_record_ids(settings)
    with sessions() as session:
        state = load_state(session, source, connector_class.name)
    pulled = connector.pull(state)
    label = "api-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    mapper = _mapper(connector_class, settings, words)
    result, _ = store_batch(
        EncodedFile(source, pulled.batch, mapper, keys, settings.azr_authoritative, sealed_ids=sealed),
        label,
        sessions,
        new_state=(connector_class.name, pulled.state),
    )
    return result


def store_batch(
    encoded: EncodedFile,
    delivered_as: str,
    sessions: sessionmaker[Session],
    new_state: tuple[str, dict[str, Any]] | None = None,
    full_snapshot: bool = False,
) -> tuple[FileOutcome, Receipt]:
    """One batch, one transaction: either all of it lands (with its rejections) or nothing does.

    ``encoded`` is the connector's batch with how its rows become records (the source's
    mapping and keys); nothing is encoded before the ledger says the content is new.

    Content already in the ledger is not imported again: after a crash between commit and
    archiving, the same file comes back and gets its original receipt; the same content under
    another name is a duplicate delivery. A pull's new cursor commits with its records. A full
    snapshot (the job centre's export) also turns absences into dated Abgang events.
    """
    source, batch = encoded.source, encoded.batch
    with sessions() as session, session.begin():
        hold(session, LINKING, shared=True)  # imports run side by side, never during linking
        if new_state is not None:
            save_state(session, source, *new_state)
        earlier = ledger_entry(session, source, batch.content_hash)
        if earlier is not None:
            receipt = _receipt(session, earlier, delivered_as)
            _audit_input(session, source, batch.content_hash, new_state is not None, {"status": "skipped"})
            return FileOutcome(source, delivered_as, "skipped", ledger_id=earlier.id), receipt
        # Chunks are stored while the next ones are encoded, on both backends, and a file is
        # never held as records all at once. On SQLite this holds its only write lock while the
        # file is encoded: other writers wait, as they do while a link run holds it, and a
        # timed-out import is retried (flows.sync). Encoding first and storing after left a core
        # idle while the parent stored, and held twice the memory (benchmarks/README.md).
        result = store_file(
            session,
            source=source,
            file_name=delivered_as,
            batch=batch,
            records=encoded,
            rejections=encoded.rejections,  # complete once store_file has taken the records
            notes=encoded.notes,
        )
        counts: dict[str, Any] = {
            "status": result.status,
            "rows_total": result.rows_total,
            "accepted": result.accepted,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
        }
        if full_snapshot and not batch.rejected_whole:
            gone, back = apply_snapshot(session, source, encoded.present, encoded.snapshot_date())
            counts |= {"abgang": gone, "zugang": back}
        _audit_input(session, source, batch.content_hash, new_state is not None, counts)  # last: it locks the channel
        session.flush()
        crash_point("upsert")
        return result, _receipt(session, session.get_one(IngestFile, result.ledger_id), delivered_as)


def _audit_input(session: Session, source: str, content_hash: str, pulled: bool, counts: dict[str, Any]) -> None:
    """The input channel's entry of a delivery: its source and content hash (never its file name,
    which a sender may have made of a person's name) and what became of its rows."""
    append(session, "input", "ingest.pull" if pulled else "ingest.file", [file_object(source, content_hash)], counts)


def _receipt(session: Session, ledger: IngestFile, delivered_as: str) -> Receipt:
    """The receipt of a ledger entry, rebuilt from the database (so re-runs write the same)."""
    duplicate = ledger.file_name != delivered_as
    return Receipt(
        source=ledger.source,
        file_name=delivered_as,
        content_hash=ledger.content_hash,
        status="duplicate" if duplicate else ledger.status,
        received_at=ledger.created_at.isoformat(timespec="seconds"),
        rows_total=0 if duplicate else ledger.rows_total,
        accepted=0 if duplicate else ledger.rows_accepted,
        unchanged=0 if duplicate else ledger.rows_unchanged,
        rejected=0 if duplicate else ledger.rows_rejected,
        noted=0 if duplicate else ledger.rows_noted,
        rejections=[] if duplicate else rejections_of(session, ledger.id),
        notes=[] if duplicate else notes_of(session, ledger.id),
        unknown_columns=[] if duplicate else list(ledger.unknown_columns or []),
    )
