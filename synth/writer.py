"""Write the exports with rows in random order, in bounded memory, from parallel chunks.

Rows are produced person by person, so written as they come they would list a household, or
a person's duplicate intake, side by side: a hint no real export gives. Each chunk of the
population sends every row to one of k buckets at random (a temporary part file per chunk
and bucket); at the end each bucket's parts are joined, shuffled and appended to the export.
That is a uniform shuffle that holds one bucket in memory, which keeps million-person runs
possible, and it lets chunks run in separate processes.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from kim_hub.synth.sources import SourceProfile

BUCKET_ROWS = 200_000  # rows per bucket held in memory while shuffling
CP1252_ERRORS = "synth-cp1252"

# Excel's "CSV (Trennzeichen-getrennt)" cannot store letters outside Windows-1252: it writes
# the base letter where one is obvious and "?" otherwise.
_CP1252_BASE = str.maketrans({"ş": "s", "Ş": "S", "ğ": "g", "Ğ": "G", "ı": "i", "İ": "I"})


def _cp1252_replace(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: base letter for Turkish letters, '?' for anything else."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    folded = bad.translate(_CP1252_BASE)
    return "".join(c if c != b else "?" for c, b in zip(folded, bad)), exc.end


codecs.register_error(CP1252_ERRORS, _cp1252_replace)


def bucket_count(expected_rows: int) -> int:
    """How many shuffle buckets a source needs."""
    return max(1, math.ceil(expected_rows / BUCKET_ROWS))


def part_path(tmpdir: Path, source: str, bucket: int, chunk: int) -> Path:
    """Temporary file of one chunk's rows for one bucket of one source."""
    return tmpdir / f"{source}.b{bucket}.c{chunk}.part"


def _body_encoding(profile: SourceProfile) -> tuple[str, str]:
    """(encoding, error handler) for rows: the BOM belongs to the header only."""
    if profile.encoding == "cp1252":
        return "cp1252", CP1252_ERRORS
    return "utf-8", "strict"


class BucketWriter:
    """One chunk's rows of one source, spread at random over the source's buckets."""

    def __init__(self, profile: SourceProfile, buckets: int, tmpdir: Path, chunk: int, rng: random.Random) -> None:
        encoding, errors = _body_encoding(profile)
        self.k = buckets
        self._random = rng.random
        self._files: list[IO[str]] = [
            open(part_path(tmpdir, profile.name, b, chunk), "w", encoding=encoding, errors=errors, newline="")  # noqa: SIM115 - open as long as the writer; close() closes them
            for b in range(buckets)
        ]
        self._writers = [csv.writer(f, delimiter=profile.delimiter, lineterminator=profile.lineterminator) for f in self._files]
        self.write = self._writers[0].writerow if buckets == 1 else self._write_bucketed

    def _write_bucketed(self, row: Sequence[str]) -> None:
        """Append row to a random bucket."""
        self._writers[int(self._random() * self.k)].writerow(row)

    def close(self) -> None:
        """Flush and close the part files."""
        for f in self._files:
            f.close()


def header_bytes(profile: SourceProfile) -> bytes:
    """Header line in the file's encoding (with BOM for utf-8-sig)."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=profile.delimiter, lineterminator=profile.lineterminator).writerow(profile.header())
    return buf.getvalue().encode(profile.encoding)


def merge_buckets(path: Path, profile: SourceProfile, buckets: int, chunks: int, tmpdir: Path, seed: int) -> int:
    """Write the export: header, then each bucket's rows (all chunks) shuffled; returns rows.

    Rows never contain line breaks (names and codes are single-line), so a bucket can be
    shuffled as byte lines; a CRLF terminator keeps its CR at the end of each line."""
    rows = 0
    with open(path, "wb") as out:
        out.write(header_bytes(profile))
        for b in range(buckets):
            parts = [part_path(tmpdir, profile.name, b, c) for c in range(chunks)]
            lines: list[bytes] = []
            for part in parts:
                body = part.read_bytes()
                part.unlink()
                if body:
                    chunk_lines = body.split(b"\n")
                    chunk_lines.pop()  # after the final line terminator
                    lines.extend(chunk_lines)
            random.Random(f"{seed}:order:{profile.name}:{b}").shuffle(lines)
            rows += len(lines)
            if lines:
                out.write(b"\n".join(lines))
                out.write(b"\n")
    return rows
