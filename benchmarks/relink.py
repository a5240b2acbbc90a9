"""The link step from empty, re-run on one ingested home: wall and CPU per run, and a digest of the result.

    .venv/bin/python benchmarks/relink.py --persons 100000 --repeat 3 --keep-home /tmp/relink-100k
    /work/main/.venv/bin/python benchmarks/relink.py --home /tmp/relink-100k --repeat 3   # another checkout

Generates a population (``kim_hub.synth.generate``), makes a home holding the fixed test key
(``tests.support.init_home``: two homes made so hold the same key), delivers the drops and ingests
every source once (``pipeline.ingest.ingest_source``). Then, ``--repeat`` times, the ingested home
is copied and ``pipeline.linking.link_index`` links it from empty, each run in a fresh process of
the interpreter that runs this script (so the ``kim_hub`` linked is that interpreter's checkout: two
checkouts link the very same ingested data). Per run: the link step's wall and CPU seconds
(``cpu_s``: the linking process's threads; ``workers_cpu_s``: its worker processes, read from /proc;
``tree_cpu_s``: the child process as its parent sees it, start-up included, workers not), the
machine's load, pairwise P/R/F1 against the generator's truth, and a digest of the result that
does not depend on the random pseudonyms: the partition into persons, each link's status and
score, and the open review items (pair, score, stake, evidence, field weights).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import hashlib
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests.support, whichever interpreter runs this file
    sys.path.insert(0, str(ROOT))


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def prepare(work: Path, persons: int, seed: int) -> Path:
    """A home with the drops of a generated population ingested (not linked); returns the home."""
    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.keystore import load_keys
    from kim_hub.pipeline.database import auditor_for, keyring_for
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.ingest import ingest_source
    from kim_hub.synth import generate
    from tests.support.cli import init_home
    from tests.support.files import copy_deliveries

    drops = work / "drops"
    generate(drops, persons, seed)
    path = init_home(work / "home")
    copy_deliveries(sorted(p for p in (drops / "inbox").glob("*/*") if p.is_file()), path)
    shutil.copyfile(drops / "truth.csv", work / "truth.csv")
    shutil.rmtree(drops)
    home = HubHome(path)
    config = home.load_config()
    engine = make_engine(home.database_url(config))
    sessions = session_factory(engine, auditor_for(home, config), keyring_for(home, config))
    keys = load_keys(home.key_dir(config))
    started = time.perf_counter()
    records = sum(ingest_source(home, config, source, keys, sessions).records_in for source in config.sources)
    engine.dispose()
    print(f"ingested {records} records in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def link_once(home_path: Path, profile: Path | None) -> dict[str, float | int]:
    """Link the home from empty in this process; wall and CPU seconds of the link step."""
    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.pipeline.database import auditor_for, keyring_for
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.linking import link_index

    home = HubHome(home_path)
    config = home.load_config()
    engine = make_engine(home.database_url(config))
    sessions = session_factory(engine, auditor_for(home, config), keyring_for(home, config))
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = profiler.runcall(link_index, sessions, config) if profiler else link_index(sessions, config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    workers = _descendants_cpu()  # before the forkserver goes: its reaped workers count in it
    engine.dispose()
    if profiler and profile:
        with profile.open("w") as handle:
            pstats.Stats(profiler, stream=handle).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profiler, stream=handle).sort_stats("tottime").print_stats(40)
    return {
        "link_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "workers_cpu_s": round(workers, 2),
        "records_linked": outcome.records_linked,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),  # the linking process
    }


def _descendants_cpu() -> float:
    """CPU seconds of this process's descendants (the index's parse workers, started through a
    forkserver that this process never waits for, so ``RUSAGE_CHILDREN`` misses them): each
    one's own time and that of the children it has reaped, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except OSError:
                continue
            todo += children
            for child in children:
                try:
                    fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def result_digest(home_path: Path, truth_file: Path) -> dict[str, object]:
    """P/R/F1 against the truth and a digest of the partition, links and open review items."""
    from sqlalchemy import select

    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.models import ReviewItem, SourceRecord
    from kim_hub.linkage.evaluate import pairwise_score
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.links import link_rows
    from kim_hub.pipeline.record_ids import RecordIdForms

    home = HubHome(home_path)
    config = home.load_config()
    rows = link_rows(home)
    with truth_file.open(encoding="utf-8") as handle:
        forms = RecordIdForms.of(home, config)
        truth = {(r["source"], forms.stored(r["source"], r["record_id"])): r["person"] for r in csv.DictReader(handle)}
    score = pairwise_score(truth, {(s, r): p for s, r, p, _st, _sc in rows})
    persons: dict[str, list[str]] = {}
    for source, record, pseudonym, _status, _score in rows:
        persons.setdefault(str(pseudonym), []).append(f"{source}/{record}")
    partition = sorted(sorted(members) for members in persons.values())
    links = sorted((f"{s}/{r}", st, sc) for s, r, _p, st, sc in rows)
    engine = make_engine(home.database_url(config))
    with session_factory(engine)() as session:
        name = {
            i: f"{s}/{r}" for i, s, r in session.execute(select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id))
        }
        items = sorted(
            (
                name[i.record_a],
                name[i.record_b],
                i.status,
                i.score,
                i.stake,
                json.dumps(i.evidence, sort_keys=True),
                json.dumps(i.weights, sort_keys=True),
            )
            for i in session.execute(select(ReviewItem)).scalars()
        )
    engine.dispose()

    def digest(value: object) -> str:
        return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]

    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "persons": len(partition),
        "review_items": len(items),
        "partition_digest": digest(partition),
        "links_digest": digest(links),
        "review_digest": digest(items),
    }


def run_child(source_home: Path, work: Path, truth: Path, profile: Path | None) -> dict[str, object]:
    """Copy the ingested home and link the copy in a fresh process; its figures and the digest."""
    target = work / "run"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source_home, target, symlinks=True)
    load = _load()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, str(Path(__file__).resolve()), "--link-only", str(target)]
    if profile:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"link run failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["tree_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    figures["load_before"] = load
    figures["load_after"] = _load()
    figures.update(result_digest(target, truth))
    shutil.rmtree(target)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--home", type=Path, help="an ingested home made by --keep-home (its truth.csv beside it)")
    parser.add_argument("--keep-home", type=Path, help="make the ingested home here and keep it")
    parser.add_argument("--profile", type=Path, help="cProfile summary of the first run's link step")
    parser.add_argument("--out", type=Path, help="result JSON (default: benchmarks/results/relink-<persons>-<commit>.json)")
    parser.add_argument("--link-only", type=Path, help=argparse.SUPPRESS)  # the child: link this home, print JSON
    args = parser.parse_args()
    if args.link_only:
        print(json.dumps(link_once(args.link_only, args.profile)))
        return

    if args.home:
        base, made = args.home.resolve(), False
    else:
        base, made = (args.keep_home or Path(tempfile.mkdtemp(prefix="kimhub-relink-"))).resolve(), True
        base.mkdir(parents=True, exist_ok=True)
        prepare(base, args.persons, args.seed)
    work = Path(tempfile.mkdtemp(prefix="kimhub-relink-run-", dir=base.parent))
    from measured_checkout import measured_checkout  # beside this script

    checkout, commit = measured_checkout()
    runs = []
    try:
        for index in range(args.repeat):
            figures = run_child(base / "home", work, base / "truth.csv", args.profile if index == 0 else None)
            runs.append(figures)
            print(json.dumps(figures), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made and not args.keep_home:
            shutil.rmtree(base, ignore_errors=True)
    result = {
        "checkout": str(checkout),
        "commit": commit,
        "home": str(base),
        "repeat": args.repeat,
        "median_link_s": statistics.median(r["link_s"] for r in runs),  # type: ignore[misc]
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),  # type: ignore[misc]
        "median_tree_cpu_s": statistics.median(r["tree_cpu_s"] for r in runs),  # type: ignore[misc]
        "median_workers_cpu_s": statistics.median(r["workers_cpu_s"] for r in runs),  # type: ignore[misc]
        "digests": sorted({(r["partition_digest"], r["links_digest"], r["review_digest"]) for r in runs}),  # type: ignore[misc]
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    out = args.out or ROOT / "benchmarks" / "results" / f"relink-{args.persons}-{commit}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
