"""One sync cycle for one source, as plain functions the Prefect tasks wrap.

The data path, top to bottom, per delivered file:

    connector.read_file      bytes → rows (+ rejections for unreadable rows)
    mapping                  row → CaseSummary (+ rejections naming row and field)
    pseudonymise             identity → keyed encodings; identity dropped here
    hub_db.records           store records, rejections and the ledger entry in one transaction

Linking into the master index runs once after all sources (``link_index``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import FileBatch, RawRow, Rejection
from connectors.registry import load_connector
from flows.home import HubConfig, HubHome
from hub_db.master_index import LinkOutcome, LinkPolicy, link_pending
from hub_db.records import FileOutcome, already_ingested, store_file
from linkage.keyed import EncodingKeys
from linkage.pseudonymise import PseudonymisedRecord, pseudonymise
from mappings.case_summary import CaseSummary
from mappings.provider_csv import map_provider_row

RowMapper = Callable[[str, RawRow], "CaseSummary | list[Rejection]"]

# Which mapping turns a connector's rows into case summaries (by the connector's row format).
MAPPINGS: dict[str, RowMapper] = {"provider-csv": map_provider_row}


@dataclass
class SourceOutcome:
    """What one source's sync cycle did (fixed metric names)."""

    source: str
    files_seen: int = 0
    files_ingested: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
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
        self.records_in += outcome.rows_total
        self.records_accepted += outcome.accepted
        self.records_unchanged += outcome.unchanged
        self.records_rejected += outcome.rejected

    def as_dict(self) -> dict[str, int | str]:
        return {k: v for k, v in self.__dict__.items() if k != "files"}


def delivered_files(inbox: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files in a source's inbox, oldest name first; partial uploads (.part) are left alone."""
    if not inbox.is_dir():
        return []
    return sorted(
        p for p in inbox.iterdir() if p.is_file() and not p.is_symlink() and p.suffix.lower() in suffixes
    )


def ingest_source(
    home: HubHome,
    config: HubConfig,
    source: str,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
    on_file: Callable[[FileOutcome], None] | None = None,
) -> SourceOutcome:
    """Read, map, pseudonymise and store every new file in one source's inbox."""
    connector = load_connector(config.sources[source].connector)
    mapper = MAPPINGS[getattr(connector, "row_format", connector.name)]
    suffixes = tuple(getattr(connector, "file_suffixes", (".csv",)))
    outcome = SourceOutcome(source)
    for path in delivered_files(home.inbox(source), suffixes):
        result = ingest_file(path, source, connector, mapper, keys, sessions)
        outcome.add(result)
        if on_file:
            on_file(result)
    return outcome


def ingest_file(
    path: Path,
    source: str,
    connector: type,
    mapper: RowMapper,
    keys: EncodingKeys,
    sessions: sessionmaker[Session],
) -> FileOutcome:
    """One file, one transaction: either all of it lands (with its receipts) or nothing does."""
    batch: FileBatch = connector.read_file(path)  # type: ignore[attr-defined]
    with sessions() as session, session.begin():
        if already_ingested(session, source, batch.content_hash):
            return FileOutcome(source, path.name, "skipped")
        records, rejections = _map_and_pseudonymise(source, batch, mapper, keys)
        return store_file(
            session,
            source=source,
            file_name=path.name,
            content_hash=batch.content_hash,
            rows_total=len(batch.rows) + _unread_rows(batch),
            records=records,
            rejections=rejections,
            rejected_whole=batch.rejected_whole,
        )


def _map_and_pseudonymise(
    source: str, batch: FileBatch, mapper: RowMapper, keys: EncodingKeys
) -> tuple[list[PseudonymisedRecord], list[Rejection]]:
    rejections = list(batch.rejections)
    records: dict[str, PseudonymisedRecord] = {}
    for row, mapped in _mapped_rows(source, batch, mapper):
        if isinstance(mapped, list):
            rejections += mapped
            continue
        if mapped.case.record_id in records:
            rejections.append(Rejection(row.file, row.row_number, "record_id", "record_id occurs twice in this file"))
            continue
        records[mapped.case.record_id] = pseudonymise(mapped, keys)
    return list(records.values()), rejections


def _mapped_rows(source: str, batch: FileBatch, mapper: RowMapper) -> Iterator[tuple[RawRow, CaseSummary | list[Rejection]]]:
    for row in batch.rows:
        yield row, mapper(source, row)


def _unread_rows(batch: FileBatch) -> int:
    """Rows the connector could not even split into fields (ragged, broken quoting)."""
    return len({r.row for r in batch.rejections if r.row is not None})


def link_index(sessions: sessionmaker[Session], config: HubConfig) -> LinkOutcome:
    """Link all new and changed records into the master index, in one transaction."""
    policy = LinkPolicy(**config.linkage.model_dump())
    with sessions() as session, session.begin():
        return link_pending(session, policy)
