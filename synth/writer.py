"""Write a source's export with rows in random order, in bounded memory.

Rows are produced person by person, so written as they come they would list a household, or
a person's duplicate intake, side by side: a hint no real export gives. Each row goes to one
of k buckets at random (in memory when one bucket suffices, temporary files otherwise); at
the end every bucket is shuffled and appended. That is an exact uniform shuffle needing
memory for one bucket only, which keeps million-person runs possible.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import random
from pathlib import Path
from typing import IO

from synth.sources import SourceProfile

BUCKET_ROWS = 200_000  # rows per bucket held in memory while shuffling
CP1252_ERRORS = "synth-cp1252"

# Excel's "CSV (Trennzeichen-getrennt)" cannot store letters outside Windows-1252: it writes
# the base letter where one is obvious and "?" otherwise.
_CP1252_BASE = str.maketrans({"ş": "s", "Ş": "S", "ğ": "g", "Ğ": "G", "ı": "i", "İ": "I"})


def _cp1252_replace(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: base letter for Turkish letters, '?' for anything else."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    folded = bad.translate(_CP1252_BASE)
    return "".join(c if c != b else "?" for c, b in zip(folded, bad)), exc.end


codecs.register_error(CP1252_ERRORS, _cp1252_replace)


def _body_encoding(profile: SourceProfile) -> tuple[str, str]:
    """(encoding, error handler) for rows: the BOM belongs to the header only."""
    if profile.encoding == "cp1252":
        return "cp1252", CP1252_ERRORS
    return "utf-8", "strict"


class ShuffledCsvSink:
    """A CSV export whose rows are written in uniformly random order (see module doc)."""

    def __init__(self, path: Path, profile: SourceProfile, expected_rows: int, tmpdir: Path,
                 rng: random.Random) -> None:
        self.path = path
        self.profile = profile
        self.rng = rng
        self.rows = 0
        self.k = max(1, math.ceil(expected_rows / BUCKET_ROWS))
        encoding, errors = _body_encoding(profile)
        self._streams: list[IO[str]] = []
        self._parts: list[Path] = []
        for i in range(self.k):
            if self.k == 1:
                self._streams.append(io.StringIO())
            else:
                part = tmpdir / f"{profile.name}.{i}.part"
                self._parts.append(part)
                self._streams.append(open(part, "w", encoding=encoding, errors=errors, newline=""))
        self._writers = [csv.writer(s, delimiter=profile.delimiter, lineterminator=profile.lineterminator)
                         for s in self._streams]
        self.write = self._writers[0].writerow if self.k == 1 else self._write_bucketed

    def _write_bucketed(self, row: list[str]) -> None:
        """Append row to a random bucket."""
        self._writers[int(self.rng.random() * self.k)].writerow(row)

    def _header_bytes(self) -> bytes:
        """Header line in the file's encoding (with BOM for utf-8-sig)."""
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.profile.delimiter,
                   lineterminator=self.profile.lineterminator).writerow(self.profile.header())
        return buf.getvalue().encode(self.profile.encoding)

    def finish(self) -> None:
        """Shuffle each bucket and write the final file; remove temporary parts."""
        encoding, errors = _body_encoding(self.profile)
        with open(self.path, "wb") as out:
            out.write(self._header_bytes())
            for i, stream in enumerate(self._streams):
                if self.k == 1:
                    assert isinstance(stream, io.StringIO)
                    body = stream.getvalue().encode(encoding, errors)
                else:
                    stream.close()
                    body = self._parts[i].read_bytes()
                    self._parts[i].unlink()
                lines = body.split(b"\n")
                lines.pop()  # after the final line terminator
                self.rows += len(lines)
                self.rng.shuffle(lines)
                if lines:
                    out.write(b"\n".join(lines))
                    out.write(b"\n")
