"""Scale benchmark: ingest + link from empty, then a 1 % daily delta, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/scale.py --persons 100000 [--seed 1] [--database-url URL] [--profile]

Runs the hub's own data path (drop folder → connectors → mapping → pseudonymisation → store →
master index) without Prefect, so the figures are the hub's work, not the orchestrator's start-up
(a flow run adds a constant ~8 s with Prefect's temporary server). Reports wall time, records/s,
peak RSS, database size and pairwise F1 against the generator's truth, then loads the index for
online questions (``hub_db.online.OnlineIndex``) and times ``--online-calls`` single-record links
(records re-read from the drops, which the index holds, plus new persons); `--profile` writes a
cProfile summary of the ingest and link steps next to the work directory.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.keystore import load_keys
from kim_hub.hub_db.online import OnlineIndex
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.evaluate import pairwise_score
from kim_hub.linkage.pseudonymise import stored_record_id
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.mappings.record_ids import guarded
from kim_hub.pipeline.database import auditor_for, keyring_for
from kim_hub.pipeline.home import HubConfig, HubHome, default_config
from kim_hub.pipeline.ingest import ingest_source
from kim_hub.pipeline.linking import link_index
from kim_hub.pipeline.links import link_rows
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.setup import initialise
from kim_hub.synth import generate

ROOT = Path(__file__).resolve().parent.parent
DELTA_SHARE = 0.01
# The exports lay in the inbox for ten minutes before the sync, so they are taken at the first look
# (a file that settled only just gets a second look a second later, per source: connectors.drop_folder).
DELIVERED_AGO_S = 600


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeRssSampler:
    """Peak resident memory of this process plus its worker processes (sampled every 0.2 s from
    /proc): the ingest's workers are alive throughout, so RUSAGE_CHILDREN would not count them."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in _tree(os.getpid())) / 1024)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(child) for child in task.read_text().split()]
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # the process ended meanwhile
        pass
    return 0


def deliver_all(drops: Path, home: HubHome) -> None:
    past = time.time() - DELIVERED_AGO_S
    for path in (drops / "inbox").rglob("*.csv"):
        target = home.inbox(path.parent.name) / path.name
        target.write_bytes(path.read_bytes())
        os.utime(target, (past, past))


def make_delta(drops: Path, home: HubHome, seed: int) -> int:
    """1 % of each source's rows changed (case status) plus 1 % new persons' rows, as new files."""
    rng = random.Random(seed)
    fresh = Path(tempfile.mkdtemp(prefix="delta-", dir=drops.parent))  # removed with the work dir
    generate(fresh, max(1, int(count_persons(drops) * DELTA_SHARE)), seed + 1000, day=None)
    past = time.time() - DELIVERED_AGO_S
    rows = 0
    for path in sorted((drops / "inbox").rglob("*.csv")):
        raw = path.read_bytes()
        encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else ("utf-8" if _utf8(raw) else "cp1252")
        text = raw.decode(encoding)
        delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        header, body = table[0], table[1:]
        status = next(i for i, h in enumerate(header) if h.lower() in ("case_status", "fallstatus"))
        changed = rng.sample(body, max(1, int(len(body) * DELTA_SHARE)))
        for row in changed:
            row[status] = "paused" if row[status] != "paused" else "active"
        extra_file = next((fresh / "inbox" / path.parent.name).glob("*.csv"))
        extra_raw = extra_file.read_bytes().decode(encoding)
        extra = list(csv.reader(io.StringIO(extra_raw), delimiter=delimiter))[1:]
        for row in extra:
            row[0] = "N" + row[0]  # new persons: ids that cannot collide with day one
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in text else "\n")
        writer.writerow(header)
        writer.writerows(changed + extra)
        target = home.inbox(path.parent.name) / f"delta_{path.name}"
        target.write_bytes(out.getvalue().encode("utf-8-sig" if encoding == "utf-8-sig" else encoding))
        os.utime(target, (past, past))
        rows += len(changed) + len(extra)
    return rows


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def count_persons(drops: Path) -> int:
    with (drops / "truth.csv").open(encoding="utf-8") as handle:
        return len({row["person"] for row in csv.DictReader(handle)})


def _profiled(profile: Path | None, step, *args):
    """Run one step, under cProfile when asked (summary written to ``profile``)."""
    if profile is None:
        return step(*args)
    profiler = cProfile.Profile()
    result = profiler.runcall(step, *args)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(30)
    profile.write_text(stream.getvalue())
    return result


def run_cycle(home: HubHome, config: HubConfig, profile: Path | None) -> dict:
    engine = make_engine(home.database_url(config))
    sessions = session_factory(
        engine, auditor_for(home, config), keyring_for(home, config)
    )  # ingests and links write the audit log
    keys = load_keys(home.key_dir(config))
    started = time.perf_counter()

    def ingest_all() -> int:
        return sum(ingest_source(home, config, source, keys, sessions).records_in for source in config.sources)

    with TreeRssSampler() as ingest_tree:
        records = _profiled(profile.with_name(profile.stem + "-ingest.txt") if profile else None, ingest_all)
    ingested = time.perf_counter()
    ingest_peak = peak_rss_mb()
    with TreeRssSampler() as link_tree:
        linked = _profiled(profile, link_index, sessions, config)
    done = time.perf_counter()
    engine.dispose()
    return {
        "records": records,
        "ingest_s": round(ingested - started, 1),
        "link_s": round(done - ingested, 1),
        "total_s": round(done - started, 1),
        "records_per_s": round(records / (done - started), 1) if records else 0,
        "records_linked": linked.records_linked,
        "ingest_peak_rss_mb": round(ingest_peak),  # this process only (ingest workers come on top)
        "peak_rss_mb": round(peak_rss_mb()),
        "peak_rss_with_workers_mb": round(max(ingest_tree.peak_mb, link_tree.peak_mb)),  # sampled, all processes
    }


def sample_records(drops: Path, keys, rng: random.Random, count: int) -> list[tuple[tuple[str, str] | None, object]]:
    """``count`` encoded records from the drop files, with their (source, stored record id)."""
    files = sorted((drops / "inbox").rglob("*.csv"))
    out = []
    for path in files:
        batch = ProviderCsvConnector.read_file(path)
        rows = rng.sample(batch.rows, min(len(batch.rows), count // len(files) + 1))
        for row in rows:
            source = path.parent.name
            mapped = guarded(map_provider_row, source == "jobcenter")(source, row)  # the job centre's ids are kept encrypted
            if isinstance(mapped, CaseSummary):
                key = (source, stored_record_id(mapped.case.record_id, keys, source))
                out.append((key, encode_identity(mapped.identity, keys)))
    return out[:count]


def measure_online(home: HubHome, config: HubConfig, drops: Path, seed: int, calls: int) -> dict:
    """Load the index for online questions, then time single-record links (p50/p95/max)."""
    engine = make_engine(home.database_url(config))
    sessions = session_factory(
        engine, auditor_for(home, config), keyring_for(home, config)
    )  # ingests and links write the audit log
    keys = load_keys(home.key_dir(config))
    rng = random.Random(seed)
    known = sample_records(drops, keys, rng, calls * 2 // 3)
    fresh_drops = Path(tempfile.mkdtemp(prefix="kimhub-online-"))
    generate(fresh_drops, max(calls, 50), seed + 2000, day=None)
    fresh = [(None, enc) for _key, enc in sample_records(fresh_drops, keys, rng, calls - len(known))]
    person_of = {(s, r): p for s, r, p, _st, _sc in link_rows(home)}
    started = time.perf_counter()
    with sessions() as session:
        index = OnlineIndex(session)
    loaded = time.perf_counter()
    timings, agree, statuses = [], 0, {"auto": 0, "review": 0, "new": 0}
    for key, encoding in known + fresh:
        t0 = time.perf_counter()
        answer = index.link(encoding)
        timings.append(time.perf_counter() - t0)
        statuses[answer.status] += 1
        agree += key is not None and answer.pseudonym == person_of.get(key)
    engine.dispose()
    ms = sorted(t * 1000 for t in timings)
    return {
        "load_s": round(loaded - started, 1),
        "calls": len(ms),
        "p50_ms": round(ms[len(ms) // 2], 1),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 1),
        "max_ms": round(ms[-1], 1),
        "answers": statuses,
        "known_records_found": f"{agree}/{len(known)}",
        "peak_rss_mb": round(peak_rss_mb()),
    }


def database_size_mb(home: HubHome, config: HubConfig) -> float | None:
    url = home.database_url(config)
    if url.startswith("sqlite"):
        database = home.var / "hub.db"
        return round(database.stat().st_size / 2**20, 1) if database.exists() else None
    engine = make_engine(url)
    with engine.connect() as connection:
        size = connection.execute(text("select pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return round(size / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: SQLite in the temporary home")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--online-calls", type=int, default=300)
    parser.add_argument(
        "--keep", action="store_true", help="keep the work dir (home, drops; 4.6 GB at 1M records); --profile keeps it too"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kimhub-scale-"))
    drops = work / "drops"
    started = time.perf_counter()
    generated = generate(drops, args.persons, args.seed)
    generate_s = time.perf_counter() - started
    home = HubHome(work / "home")
    home.path.mkdir()
    home.save_config(default_config(args.database_url))
    config = initialise(home)
    deliver_all(drops, home)
    first = run_cycle(home, config, work / "profile-first.txt" if args.profile else None)

    with (drops / "truth.csv").open(encoding="utf-8") as handle:
        forms = RecordIdForms.of(home, config)  # the truth names ids as the sources wrote them; the hub stores tokens of some
        truth = {(r["source"], forms.stored(r["source"], r["record_id"])): r["person"] for r in csv.DictReader(handle)}
    score = pairwise_score(truth, {(s, r): p for s, r, p, _st, _sc in link_rows(home)})

    delta_rows = make_delta(drops, home, args.seed)
    delta = run_cycle(home, config, work / "profile-delta.txt" if args.profile else None)
    online = measure_online(home, config, drops, args.seed, args.online_calls) if args.online_calls else {}
    result = {
        "persons": generated.persons,
        "records": generated.records,
        "backend": "postgresql" if args.database_url.startswith("postgresql") else "sqlite",
        "generate_s": round(generate_s, 1),
        "from_empty": first,
        "pairwise": {"precision": round(score.precision, 4), "recall": round(score.recall, 4), "f1": round(score.f1, 4)},
        "delta_rows": delta_rows,
        "delta": delta,
        "online": online,
        "db_size_mb": database_size_mb(home, config),
        "work_dir": str(work) if args.keep or args.profile else None,
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "benchmarks" / "results" / f"scale-{generated.persons}-{result['backend']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not (args.keep or args.profile):
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
