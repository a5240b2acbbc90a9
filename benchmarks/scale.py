"""Scale benchmark: ingest + link from empty, then a 1 % daily delta, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/scale.py --persons 100000 [--seed 1] [--database-url URL] [--profile]

Runs the hub's own data path (drop folder → connectors → mapping → pseudonymisation → store →
master index) without Prefect, so the figures are the hub's work, not the orchestrator's start-up
(a flow run adds a constant ~8 s with Prefect's temporary server). Reports wall time, records/s,
peak RSS, database size and pairwise F1 against the generator's truth; `--profile` writes a
pyinstrument-style cProfile summary of the link step.
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
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.cli import initialise, link_rows  # noqa: E402
from flows.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source  # noqa: E402
from flows.ingest import ingest_source, link_index  # noqa: E402
from hub_db.database import make_engine, session_factory  # noqa: E402
from hub_db.keystore import load_keys  # noqa: E402
from linkage.evaluate import pairwise_score  # noqa: E402
from synth import generate  # noqa: E402

DELTA_SHARE = 0.01


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def deliver_all(drops: Path, home: HubHome) -> None:
    past = time.time() - 60
    for path in (drops / "inbox").rglob("*.csv"):
        target = home.inbox(path.parent.name) / path.name
        target.write_bytes(path.read_bytes())
        os.utime(target, (past, past))


def make_delta(drops: Path, home: HubHome, seed: int) -> int:
    """1 % of each source's rows changed (case status) plus 1 % new persons' rows, as new files."""
    rng = random.Random(seed)
    fresh = Path(tempfile.mkdtemp(prefix="kimhub-delta-"))
    generate(fresh, max(1, int(count_persons(drops) * DELTA_SHARE)), seed + 1000, day=None)
    past = time.time() - 60
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


def run_cycle(home: HubHome, config: HubConfig, profile: Path | None) -> dict:
    engine = make_engine(home.database_url(config))
    sessions = session_factory(engine)
    keys = load_keys(home.key_dir(config))
    started = time.perf_counter()
    records = sum(ingest_source(home, config, source, keys, sessions).records_in for source in config.sources)
    ingested = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    linked = link_index(sessions, config)
    if profiler:
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        profile.write_text(stream.getvalue())
    done = time.perf_counter()
    engine.dispose()
    return {
        "records": records,
        "ingest_s": round(ingested - started, 1),
        "link_s": round(done - ingested, 1),
        "total_s": round(done - started, 1),
        "records_per_s": round(records / (done - started), 1) if records else 0,
        "records_linked": linked.records_linked,
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: SQLite in the temporary home")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kimhub-scale-"))
    drops = work / "drops"
    started = time.perf_counter()
    generated = generate(drops, args.persons, args.seed)
    generate_s = time.perf_counter() - started
    home = HubHome(work / "home")
    home.path.mkdir()
    home.save_config(HubConfig(database_url=args.database_url, sources={n: default_source(n) for n in DEFAULT_SOURCES}))
    config = initialise(home)
    deliver_all(drops, home)
    first = run_cycle(home, config, work / "profile-first.txt" if args.profile else None)

    with (drops / "truth.csv").open(encoding="utf-8") as handle:
        truth = {(r["source"], r["record_id"]): r["person"] for r in csv.DictReader(handle)}
    score = pairwise_score(truth, {(s, r): p for s, r, p, _st, _sc in link_rows(home)})

    delta_rows = make_delta(drops, home, args.seed)
    delta = run_cycle(home, config, work / "profile-delta.txt" if args.profile else None)
    database = home.var / "hub.db"
    result = {
        "persons": generated.persons,
        "records": generated.records,
        "backend": "postgresql" if args.database_url.startswith("postgresql") else "sqlite",
        "generate_s": round(generate_s, 1),
        "from_empty": first,
        "pairwise": {"precision": round(score.precision, 4), "recall": round(score.recall, 4), "f1": round(score.f1, 4)},
        "delta_rows": delta_rows,
        "delta": delta,
        "db_size_mb": round(database.stat().st_size / 2**20, 1) if database.exists() else None,
        "work_dir": str(work),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "benchmarks" / "results" / f"scale-{generated.persons}-{result['backend']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
