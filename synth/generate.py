"""Generate a synthetic KIM population as provider exports plus the linkage truth.

Output, deterministic for (persons, seed, day)::

    outdir/inbox/<source>/<source>_export_<YYYYMMDD>.csv   one per source, its own dialect
    outdir/truth.csv                                          source,record_id,person

Persons are produced household by household and written at once (streaming), so memory does
not grow with the population beyond the export shuffle buckets (see synth.writer).
"""

from __future__ import annotations

import datetime
import random
import shutil
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import IO

from synth import data
from synth.ids import IdSequence, Permutation, record_id_digits
from synth.population import HouseholdFactory, Person
from synth.records import RecordRenderer, person_uniform, rechtskreis
from synth.sources import SOURCES, SourceProfile
from synth.writer import ShuffledCsvSink

# Fixed default export day: output must not depend on when it is generated.
DEFAULT_EXPORT_DAY = datetime.date(2026, 3, 2)
P_DUPLICATE_INTAKE = 0.04  # a person gets a second record id in one of their sources
P_DUPLICATE_AT_ABH = 0.4  # ... most often at the authority, which records variant spellings
P_JOBCENTER_SGB2 = 0.92  # persons in SGB II are job-centre customers (children: Sozialgeld)
P_JOBCENTER_OTHER = 0.30  # others: before/after a change of legal framework
CHILD_AGE = 16  # providers' case management is for adults and older teenagers
P_PROVIDER_CHILD_FACTOR = 0.15
AZR_SPAN = 10 ** 12
JOBCENTER_LOW, JOBCENTER_SPAN = 100_000_000, 900_000_000
TRUTH_HEADER = ("source", "record_id", "person")
_SALT_IDS, _SALT_ORDER = "ids", "order"


@dataclass
class GenerationSummary:
    """What was written: counts and the file per source."""

    persons: int
    records: int
    files: dict[str, Path] = field(default_factory=dict)
    truth: Path | None = None
    records_by_source: dict[str, int] = field(default_factory=dict)


def _expected_rows(src: SourceProfile, persons: int) -> int:
    """Upper estimate of a source's rows (sizes id spaces and shuffle buckets)."""
    share = 1.0 if src.name in ("abh", "jobcenter") else src.p_include
    return int(persons * share * (1 + P_DUPLICATE_INTAKE)) + 10


class _SourceState:
    """Per-source output state: the sink's write function and the id sequence."""

    __slots__ = ("profile", "write", "ids", "count")

    def __init__(self, profile: SourceProfile, sink: ShuffledCsvSink, ids: IdSequence) -> None:
        self.profile = profile
        self.write = sink.write
        self.ids = ids
        self.count = 0

    def record_id(self, duplicate: bool) -> str:
        """Next record id in the source's style."""
        n = self.ids.next(duplicate)
        if self.profile.id_style == "jobcenter":
            return f"{n // 1_000_000:03d}D{n % 1_000_000:06d}"
        return f"{self.profile.id_prefix}{n}"


class _Emitter:
    """Chooses a person's sources, renders records, writes them and their truth rows."""

    def __init__(self, r: Callable[[], float], ids_rng: random.Random, sinks: dict[str, ShuffledCsvSink],
                 truth: IO[str], renderer: RecordRenderer, persons: int) -> None:
        self.r = r
        self.truth_write = truth.write
        self.row = renderer.row
        self.states: list[_SourceState] = []
        for src in SOURCES:
            if src.id_style == "jobcenter":
                ids = IdSequence(JOBCENTER_LOW, JOBCENTER_SPAN, ids_rng)
            else:
                digits = record_id_digits(_expected_rows(src, persons))
                ids = IdSequence(10 ** (digits - 1), 9 * 10 ** (digits - 1), ids_rng)
            self.states.append(_SourceState(src, sinks[src.name], ids))
        providers = [s.p_include for s in SOURCES[2:]]
        self._adult_providers = providers
        self._child_providers = [p * P_PROVIDER_CHILD_FACTOR for p in providers]

    def _chances(self, p: Person) -> list[float]:
        """Chance per source (SOURCES order) that p is a client there: the authority knows
        nearly everybody, the job centre follows the legal framework, providers serve adults."""
        rk = rechtskreis(p.status, p.age, person_uniform(p))
        jobcenter = P_JOBCENTER_SGB2 if rk == "SGB II" else P_JOBCENTER_OTHER
        providers = self._child_providers if p.age < CHILD_AGE else self._adult_providers
        return [SOURCES[0].p_include, jobcenter, *providers]

    def _emit(self, p: Person, state: _SourceState, duplicate: bool) -> None:
        """Render, write and record the truth of one record."""
        record_id = state.record_id(duplicate)
        state.write(self.row(p, state.profile, record_id, duplicate))
        self.truth_write(f"{state.profile.name},{record_id},{p.pid}\n")
        state.count += 1

    def person(self, p: Person) -> int:
        """All records of one person; returns how many."""
        r = self.r
        chosen = [st for st, chance in zip(self.states, self._chances(p)) if r() < chance]
        if not chosen:  # everybody in the hub is known somewhere
            chosen = [self.states[0] if r() < SOURCES[0].p_include else self.states[1 + int(r() * 5)]]
        for state in chosen:
            self._emit(p, state, False)
        n = len(chosen)
        if r() < P_DUPLICATE_INTAKE:
            state = chosen[0] if chosen[0].profile.name == "abh" and r() < P_DUPLICATE_AT_ABH else chosen[int(r() * n)]
            self._emit(p, state, True)
            n += 1
        return n

    def counts(self) -> dict[str, int]:
        """Records written per source."""
        return {st.profile.name: st.count for st in self.states}


def export_path(outdir: Path, source: str, day: datetime.date) -> Path:
    """inbox/<source>/<source>_export_<YYYYMMDD>.csv under outdir."""
    return outdir / "inbox" / source / f"{source}_export_{day:%Y%m%d}.csv"


def generate(outdir: Path, persons: int, seed: int = 0, *, day: datetime.date | None = None) -> GenerationSummary:
    """Write a synthetic population of `persons` people as six source exports and truth.csv.

    Same (persons, seed, day) gives identical bytes. `day` is the export date (file names,
    case and update dates, ages); it defaults to a fixed date, not today, for repeatability.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    outdir = Path(outdir)
    day = day or DEFAULT_EXPORT_DAY
    rng = random.Random(seed)
    ids_rng = random.Random(f"{seed}:{_SALT_IDS}")
    order_rng = random.Random(f"{seed}:{_SALT_ORDER}")
    tmpdir = outdir / ".synth-tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    sinks: dict[str, ShuffledCsvSink] = {}
    for src in SOURCES:
        path = export_path(outdir, src.name, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        files[src.name] = path
        sinks[src.name] = ShuffledCsvSink(path, src, _expected_rows(src, persons), tmpdir, order_rng)
    azr_perm = Permutation(AZR_SPAN, ids_rng)
    factory = HouseholdFactory(rng.random, day, lambda i: f"{azr_perm(i):012d}", max(7, len(str(persons))))
    renderer = RecordRenderer(rng.random, day)
    truth_path = outdir / "truth.csv"
    records = 0
    with open(truth_path, "w", encoding="utf-8", newline="") as truth_file:
        truth_file.write(",".join(TRUTH_HEADER) + "\n")  # ids and person ids need no quoting
        emitter = _Emitter(rng.random, ids_rng, sinks, truth_file, renderer, persons)
        made = 0
        while made < persons:
            household = factory.household(persons - made)
            for p in household:
                records += emitter.person(p)
            made += len(household)
    for sink in sinks.values():
        sink.finish()
    shutil.rmtree(tmpdir, ignore_errors=True)
    return GenerationSummary(persons, records, files, truth_path, emitter.counts())
