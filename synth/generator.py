"""Generate a synthetic KIM population as provider exports plus the linkage truth.

Output, deterministic for (persons, seed, day)::

    outdir/inbox/<source>/<source>_export_<YYYYMMDD>.csv   one per source, its own dialect
    outdir/truth.csv                                          source,record_id,person

The population is cut into fixed chunks of CHUNK_PERSONS; each chunk has its own random
stream (derived from seed and chunk number), streams its households to temporary part files
and can run in a separate process. The bytes therefore do not depend on how many processes
ran. The parts are then merged and shuffled per source (synth.writer).
"""

from __future__ import annotations

import datetime
import math
import os
import random
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kim_hub.synth.ids import IdSequence, Permutation, record_id_digits
from kim_hub.synth.population import HouseholdFactory, Person
from kim_hub.synth.records import RecordRenderer, person_uniform, rechtskreis
from kim_hub.synth.sources import SOURCES, SourceProfile
from kim_hub.synth.writer import BucketWriter, bucket_count, merge_buckets

# Fixed default export day: output must not depend on when it is generated.
DEFAULT_EXPORT_DAY = datetime.date(2026, 3, 2)
CHUNK_PERSONS = 25_000  # unit of parallel work; changing it changes the output
P_DUPLICATE_INTAKE = 0.04  # a person gets a second record id in one of their sources
P_DUPLICATE_AT_ABH = 0.4  # ... most often at the authority, which records variant spellings
P_JOBCENTER_SGB2 = 0.92  # persons in SGB II are job-centre customers (children: Sozialgeld)
P_JOBCENTER_OTHER = 0.30  # others: before/after a change of legal framework
CHILD_AGE = 16  # providers' case management is for adults and older teenagers
P_PROVIDER_CHILD_FACTOR = 0.15
AZR_SPAN = 10**12
JOBCENTER_LOW, JOBCENTER_SPAN = 100_000_000, 900_000_000
TRUTH_HEADER = "source,record_id,person\n"
TMP_DIR_NAME = ".synth-tmp"


@dataclass
class GenerationSummary:
    """What was written: counts and the file per source."""

    persons: int
    records: int
    files: dict[str, Path] = field(default_factory=dict)
    truth: Path | None = None
    records_by_source: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """Everything a chunk needs (picklable, for worker processes)."""

    tmpdir: Path
    persons: int
    seed: int
    day: datetime.date
    chunks: int
    chunk_persons: int
    buckets: dict[str, int]
    id_digits: int
    pid_width: int


class _SourceState:
    """Per-source output state within a chunk: the bucket writer and the id sequence."""

    __slots__ = ("count", "ids", "profile", "write")

    def __init__(self, profile: SourceProfile, writer: BucketWriter, ids: IdSequence) -> None:
        self.profile = profile
        self.write = writer.write
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

    def __init__(self, r: Callable[[], float], states: list[_SourceState], truth: IO[str], renderer: RecordRenderer) -> None:
        self.r = r
        self.states = states
        self.truth_write = truth.write
        self.row = renderer.row
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
        self.truth_write(f"{state.profile.name},{record_id},{p.pid}\n")  # no quoting needed
        state.count += 1

    def person(self, p: Person) -> None:
        """All records of one person."""
        r = self.r
        chosen = [st for st, chance in zip(self.states, self._chances(p)) if r() < chance]
        if not chosen:  # everybody in the hub is known somewhere
            chosen = [self.states[0] if r() < SOURCES[0].p_include else self.states[1 + int(r() * 5)]]
        for state in chosen:
            self._emit(p, state, False)
        if r() < P_DUPLICATE_INTAKE:
            first_is_abh = chosen[0].profile.name == "abh"
            state = chosen[0] if first_is_abh and r() < P_DUPLICATE_AT_ABH else chosen[int(r() * len(chosen))]
            self._emit(p, state, True)


def _id_sequences(plan: _Plan, chunk: int) -> list[IdSequence]:
    """Id sequences of every source for one chunk (permutations keyed by the seed only)."""
    ids_rng = random.Random(f"{plan.seed}:ids")
    seqs = []
    for src in SOURCES:
        if src.id_style == "jobcenter":
            low, span = JOBCENTER_LOW, JOBCENTER_SPAN
        else:
            low = 10 ** (plan.id_digits - 1)
            span = 9 * low
        seqs.append(IdSequence(low, Permutation(span, ids_rng), chunk, plan.chunk_persons))
    return seqs


def _truth_part(tmpdir: Path, chunk: int) -> Path:
    """Temporary truth rows of one chunk."""
    return tmpdir / f"truth.c{chunk}.part"


def _run_chunk(plan: _Plan, chunk: int) -> dict[str, int]:
    """Generate one chunk of persons into part files; returns records per source."""
    first = chunk * plan.chunk_persons
    persons = min(plan.chunk_persons, plan.persons - first)
    rng = random.Random(f"{plan.seed}:chunk:{chunk}")
    order_rng = random.Random(f"{plan.seed}:buckets:{chunk}")
    azr_perm = Permutation(AZR_SPAN, random.Random(f"{plan.seed}:azr"))
    factory = HouseholdFactory(rng.random, plan.day, lambda i: f"{azr_perm(i):012d}", plan.pid_width)
    factory.next_index = first
    writers = [BucketWriter(src, plan.buckets[src.name], plan.tmpdir, chunk, order_rng) for src in SOURCES]
    states = [_SourceState(src, w, ids) for src, w, ids in zip(SOURCES, writers, _id_sequences(plan, chunk))]
    with open(_truth_part(plan.tmpdir, chunk), "w", encoding="utf-8", newline="") as truth:
        emitter = _Emitter(rng.random, states, truth, RecordRenderer(rng.random, plan.day))
        made = 0
        while made < persons:
            household = factory.household(persons - made)
            for p in household:
                emitter.person(p)
            made += len(household)
    for w in writers:
        w.close()
    return {st.profile.name: st.count for st in states}


def export_path(outdir: Path, source: str, day: datetime.date) -> Path:
    """inbox/<source>/<source>_export_<YYYYMMDD>.csv under outdir."""
    return outdir / "inbox" / source / f"{source}_export_{day:%Y%m%d}.csv"


def _expected_rows(src: SourceProfile, persons: int) -> int:
    """Upper estimate of a source's rows (sizes the shuffle buckets)."""
    share = 1.0 if src.name in ("abh", "jobcenter") else src.p_include
    return int(persons * share * (1 + P_DUPLICATE_INTAKE)) + 10


def _run_chunks(plan: _Plan, workers: int) -> list[dict[str, int]]:
    """Run all chunks, in worker processes when there are several chunks and workers."""
    if workers <= 1 or plan.chunks == 1:
        return [_run_chunk(plan, c) for c in range(plan.chunks)]
    with ProcessPoolExecutor(max_workers=min(workers, plan.chunks)) as pool:
        return list(pool.map(_run_chunk, [plan] * plan.chunks, range(plan.chunks)))


def _merge_truth(path: Path, plan: _Plan) -> None:
    """truth.csv: header, then the chunks' truth rows in chunk order."""
    with open(path, "wb") as out:
        out.write(TRUTH_HEADER.encode())
        for c in range(plan.chunks):
            part = _truth_part(plan.tmpdir, c)
            out.write(part.read_bytes())
            part.unlink()


def generate(
    outdir: Path, persons: int, seed: int = 0, *, day: datetime.date | None = None, workers: int | None = None
) -> GenerationSummary:
    """Write a synthetic population of `persons` people as six source exports and truth.csv.

    Same (persons, seed, day) gives identical bytes, whatever `workers` is (default: one
    process per CPU). `day` is the export date (file names, case and update dates, ages);
    it defaults to a fixed date, not today, for repeatability.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    outdir = Path(outdir)
    day = day or DEFAULT_EXPORT_DAY
    tmpdir = outdir / TMP_DIR_NAME
    shutil.rmtree(tmpdir, ignore_errors=True)
    tmpdir.mkdir(parents=True)
    chunks = math.ceil(persons / CHUNK_PERSONS)
    plan = _Plan(
        tmpdir,
        persons,
        seed,
        day,
        chunks,
        CHUNK_PERSONS,
        {src.name: bucket_count(_expected_rows(src, persons)) for src in SOURCES},
        record_id_digits(2 * chunks * CHUNK_PERSONS),
        max(7, len(str(persons))),
    )
    try:
        counts = _run_chunks(plan, (os.cpu_count() or 1) if workers is None else workers)
        files: dict[str, Path] = {}
        by_source: dict[str, int] = {}
        for src in SOURCES:
            path = export_path(outdir, src.name, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            by_source[src.name] = merge_buckets(path, src, plan.buckets[src.name], chunks, tmpdir, seed)
            files[src.name] = path
        truth = outdir / "truth.csv"
        _merge_truth(truth, plan)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    assert all(by_source[s] == sum(c[s] for c in counts) for s in by_source)
    return GenerationSummary(persons, sum(by_source.values()), files, truth, by_source)
