"""A delivered file's rows as storable records, chunk by chunk: mapping and pseudonymisation.

The rows are taken from the batch as they are encoded (a big delivery is a stream, never held
whole), and the records come chunk by chunk (``pipeline.encode_pool``, in worker processes for big files) so
that storing a chunk overlaps with encoding the next ones and a big file is never held as
records all at once. Iterating gives lists of records in row order; once iterated, the
rejections, the notes, the ids the file names and its newest row date are complete.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence

from kim_hub.core.rows import FileBatch, Note, Rejection
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.pseudonymise import PseudonymisedRecord, stored_record_id
from kim_hub.mappings.identifier_policy import IdentifierNote, gathered
from kim_hub.mappings.record_ids import sealed_record_id
from kim_hub.mappings.registry import RowMapper
from kim_hub.pipeline.encode_pool import encode_rows
from kim_hub.runtime import progress


class EncodedFile:
    """One file's rows turned into records; the first row of a record id wins, a later one is rejected."""

    def __init__(
        self,
        source: str,
        batch: FileBatch,
        mapper: RowMapper,
        keys: EncodingKeys,
        azr_authoritative: bool,
        file_notes: Sequence[Note] = (),
        sealed_ids: bool = False,
    ) -> None:
        self.source, self.batch, self.mapper, self.keys, self.azr_authoritative = source, batch, mapper, keys, azr_authoritative
        self.sealed_ids = sealed_ids  # the source's record ids are kept encrypted (pipeline.record_ids)
        self.rejections: list[Rejection] = list(batch.rejections)
        self.notes: list[Note] = list(file_notes)  # about the file, then of the rows that land
        self._withheld: Counter[tuple[str, str | None, str]] = Counter()  # identifiers not taken, by column
        self.accepted: set[str] = set()  # stored (keyed) ids: one to one with the source's ids
        self._rejected_ids: set[str] = set()  # of rows rejected: the person is still in a full snapshot
        self._newest: str | None = None

    def __iter__(self) -> Iterator[list[PseudonymisedRecord]]:
        rows_read = progress.counted(self.batch.all_rows(), "read")  # a terminal's bar (runtime.progress)
        for rows, chunk in encode_rows(self.source, rows_read, self.mapper, self.keys, self.azr_authoritative):
            progress.advance("encode", len(rows))
            records: list[PseudonymisedRecord] = []
            for row, encoded in zip(rows, chunk, strict=True):
                if isinstance(encoded, list):
                    self.rejections += encoded
                    raw_id = row.fields.get("record_id") or row.fields.get("customer_no") or ""
                    if raw_id.strip():
                        self._rejected_ids.add(self._stored_id(raw_id.strip().upper()))
                elif encoded.record_id in self.accepted:
                    self.rejections.append(
                        Rejection(row.file, row.row_number, "record_id", "record_id occurs twice in this file")
                    )
                else:
                    self.accepted.add(encoded.record_id)
                    self._take_notes(encoded.notes)
                    records.append(encoded)
                    updated = encoded.updated_at
                    if updated and (self._newest is None or updated > self._newest):
                        self._newest = updated
            yield records
            progress.advance("store", len(rows))  # asked for the next chunk: this one is stored
        self.notes += gathered(self._withheld)  # once per column and file: a column not taken is usually full

    def _take_notes(self, notes: Sequence[Note]) -> None:
        """A row's notes; those of identifiers the policy did not take are counted, not listed."""
        for note in notes:
            if isinstance(note, IdentifierNote):
                self._withheld[(note.file, note.field, note.reason)] += 1
            else:
                self.notes.append(note)

    def _stored_id(self, raw_id: str) -> str:
        """How a rejected row's id would be stored (its person is still in a full snapshot)."""
        return stored_record_id(sealed_record_id(raw_id) if self.sealed_ids else raw_id, self.keys, self.source)

    @property
    def present(self) -> set[str]:
        """Every id the file names, of rows stored or rejected (complete once iterated)."""
        return self.accepted | self._rejected_ids

    def snapshot_date(self) -> dt.date:
        """The export's own date (its newest row's Stand), else today."""
        return dt.date.fromisoformat(self._newest) if self._newest else dt.date.today()
