"""How long `kim-hub ingest` takes on a held-out sample, as an operator runs it: wall and CPU time.

    .venv/bin/python benchmarks/ingest_speed.py [--sample standard] [--repeat 3] [--noop-runs 1] [--api] [--splink] [--out FILE]

Each repeat makes a fresh home (`kim-hub init` with the fixed test key of tests/support, so runs
compare), drops the sample's deliveries into its inboxes and runs the real CLI twice: the first
ingest (read, map, pseudonymise, store, link, push, report, inside a Prefect flow with its
temporary API server) and a no-op re-run (nothing new in the inboxes); ``--noop-runs 2`` adds a
second no-op re-run, whose report inputs are those of the run before (the report is not rewritten). For each run it records
the wall time and the CPU time (user + system) of the `kim-hub` process tree (``os.wait4``: the
process and every child it waited for, i.e. the encode workers and Prefect's temporary server).
The machine is shared: CPU time is the figure that other work disturbs least.

``--api`` starts one Prefect server first (tests.support.prefect) and points every run at it, so
the runs pay no temporary server.

Linkage quality is checked on every first run: pairwise P/R/F1 against the sample's truth, and a
digest of the partition (which records share a person, pseudonyms left out), so that a change
meant to be only faster can be shown to link exactly as before.

``--splink`` (needs the ``bench`` extra) runs Splink's whole clear-text linkage of the same sample
(``bench_splink``: its input read through the hub's own mapping, prepared, trained, predicted and
clustered at every threshold of its grid, as ``public_csv.py`` times it) once per repeat, right after
that repeat's hub runs, in a child process of its own: wall seconds and the CPU seconds of that
process (DuckDB's threads included), for the linkage alone and for the whole child. The medians
then give the issue's ratio from one run: the hub's own work of a first sync beyond the no-op
re-run (first ingest CPU − no-op CPU) over Splink's linkage (its wall and CPU seconds) and over
Splink's whole child process (imports and reading the sample included). ``kim-hub init``'s CPU is
recorded too: it makes Prefect's database, which the first ingest made before.

The CLI measured is the one beside this interpreter: run the script with another checkout's
venv python (``/work/main/.venv/bin/python benchmarks/ingest_speed.py``) to measure that
checkout. Medians go to stdout, every run to ``benchmarks/results/ingest-speed-<sample>-<commit>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
sys.path.insert(0, str(_ROOT))  # `tests.support`, as pytest finds it from the repository root
RESULTS = _HERE / "results"
# On a busy shared machine Prefect's temporary server can take longer than the hub's default
# 90 s to answer; a benchmark run waits for it rather than fail (flows.temporary_api).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")


def _package_commit() -> str:
    """The commit of the kim_hub this interpreter imports (``+modified`` when its tree is dirty)."""
    import kim_hub

    where = Path(kim_hub.__file__).resolve().parent
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True, text=True, check=False
    )
    return head.stdout.strip() + ("+modified" if dirty.stdout.strip() else "")


def measured(*args: str, home: Path, api: str | None) -> dict:
    """One `kim-hub ARGS --home HOME`: exit code, wall seconds and the CPU seconds of its
    process tree (this process's children's rusage read around the run: the reaped `kim-hub`
    with every child it waited for)."""
    import resource

    from tests.support.cli import _environment, kim_hub_command

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(
        [*kim_hub_command(), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=_environment(None, api),
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"kim-hub {' '.join(args)} exited {child.returncode}: {child.stderr[-2000:]}")
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {
        "returncode": child.returncode,
        "wall_s": wall,
        "user_s": user,
        "sys_s": system,
        "cpu_s": user + system,
        "stdout": child.stdout,
    }


def partition_digest(links: list[dict]) -> str:
    """Which records share a person, without the (random) pseudonyms: a digest of the sorted groups."""
    groups: dict[str, list[str]] = defaultdict(list)
    for row in links:
        groups[row["person_id"]].append(f"{row['source']}/{row['record_id']}")
    canonical = sorted(sorted(members) for members in groups.values())
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()[:16]


def _stored_truth(path: Path, home: Path) -> dict[tuple[str, str], str]:
    """``tests.support.data.stored_truth`` with each source's form asked once: before the entry
    points were cached (``core.plugins``) every ``RecordIdForms.stored`` call scanned the installed
    distributions, which made scoring a checkout of that time take minutes."""
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.record_ids import RecordIdForms, seals_record_ids
    from tests.support.data import read_truth

    hub_home = HubHome(home)
    config = hub_home.load_config()
    forms = RecordIdForms.of(hub_home, config)
    sealed = {source: seals_record_ids(settings) for source, settings in config.sources.items()}
    return {
        (source, forms.keys.seal_record_id(source, record_id) if sealed.get(source) else record_id): person
        for (source, record_id), person in read_truth(path).items()
    }


def quality(home: Path, sample_name: str) -> dict:
    """P/R/F1 against the sample's truth (sources the truth cannot name scored out, as
    public_csv.py does), the partition digest and the open review items."""
    import sqlite3

    from kim_hub.linkage.evaluate import pairwise_score
    from tests.support import run_cli, sample

    links = json.loads(run_cli("links", "--format", "json", home=home).stdout)
    predicted = {(r["source"], r["record_id"]): r["person_id"] for r in links}
    truth = _stored_truth(sample(sample_name) / "truth.csv", home)
    unnamed = sorted({s for s, _ in truth} - {s for (s, r) in truth if (s, r) in predicted})
    truth = {key: person for key, person in truth.items() if key[0] not in unnamed}
    score = pairwise_score(truth, predicted)
    with sqlite3.connect(home / "var" / "hub.db") as db:
        (review,) = db.execute("SELECT count(*) FROM review_items WHERE status = 'open'").fetchone()
    return {
        "records": len(links),
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "open_review_items": int(review),
        "partition": partition_digest(links),
        "sources_not_scored": unnamed,
    }


def splink_child() -> None:
    """In the child (``--splink-child SAMPLE``): Splink's linkage of the sample, JSON to stdout."""
    sys.path.insert(0, str(_HERE))
    import bench_data
    import bench_splink

    from kim_hub.linkage.evaluate import pairwise_score

    data = bench_data.load(sys.argv[sys.argv.index("--splink-child") + 1])
    truth = dict(enumerate(data.truth))
    cpu, wall = time.process_time(), time.perf_counter()
    run = bench_splink.link(bench_splink.prepare(data))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    scored = {threshold: pairwise_score(truth, labels) for threshold, (labels, _) in run["candidates"].items()}
    best = max(scored, key=lambda t: scored[t].f1)
    print(
        json.dumps(
            {
                "linkage_wall_s": round(wall, 2),
                "linkage_cpu_s": round(cpu, 2),
                # linkage.py's figure: training and prediction, clustering at the best threshold only
                "base_and_best_wall_s": round(run["base_seconds"] + run["candidates"][best][1], 2),
                "threshold": best,
                "f1": round(scored[best].f1, 4),
                "version": bench_splink.describe()["version"],
            }
        )
    )


def measured_splink(sample_name: str) -> dict:
    """Splink on the sample in a child process: its report plus the child's whole CPU (rusage)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--splink-child", sample_name],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(child.stdout.strip().splitlines()[-1])
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {**report, "process_wall_s": round(wall, 2), "process_cpu_s": round(cpu, 2)}


def one_repeat(work: Path, index: int, sample_name: str, api: str | None, noop_runs: int = 1) -> dict:
    import resource

    from tests.support import copy_sample, init_home

    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    home = init_home(work / f"home-{index}", api=api)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    init = {  # `kim-hub init`: since it makes Prefect's database, a cost the first ingest no longer has
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
    }
    copy_sample(home, sample_name)
    first = measured("ingest", home=home, api=api)
    again = [measured("ingest", home=home, api=api) for _ in range(noop_runs)]

    def kept(run: dict) -> dict:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items() if k != "stdout"}

    return {
        "init": init,
        "first": kept(first),
        "first_summary": [line for line in first["stdout"].splitlines() if line.startswith("master index")],
        "noop": kept(again[0]),
        # the second and later no-op re-runs: nothing new and the report's inputs as the run before
        "noop_again": [kept(run) for run in again[1:]],
        "noop_stdout": [run["stdout"].strip().splitlines()[-2:] for run in again],
        "quality": quality(home, sample_name),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="standard", help="a sample of ../shared/samples (standard, native)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--api", action="store_true", help="one running Prefect server for every run")
    parser.add_argument(
        "--noop-runs", type=int, default=1, help="no-op re-runs after the first ingest (the second one has the report unchanged)"
    )
    parser.add_argument("--splink", action="store_true", help="Splink's linkage of the same sample, once per repeat")
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/ingest-speed-<sample>-<commit>.json)")
    args = parser.parse_args()
    commit = _package_commit()
    work = Path(tempfile.mkdtemp(prefix="kim-ingest-speed-"))
    results: dict = {
        "commit": commit,
        "date": dt.date.today().isoformat(),
        "sample": args.sample,
        "api": "running server" if args.api else "temporary server per run",
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "runs": [],
    }
    with ExitStack() as stack:
        api = None
        if args.api:
            from tests.support.prefect import prefect_server

            api = stack.enter_context(prefect_server(work / "prefect"))
        for index in range(args.repeat):
            run = one_repeat(work, index, args.sample, api, args.noop_runs)
            if args.splink:
                run["splink"] = measured_splink(args.sample)
                run["load_average_after"] = os.getloadavg()
            results["runs"].append(run)
            q = run["quality"]
            print(
                f"run {index + 1}: first {run['first']['wall_s']:.1f} s wall, {run['first']['cpu_s']:.1f} s CPU; "
                f"no-op {run['noop']['wall_s']:.1f} s wall, {run['noop']['cpu_s']:.1f} s CPU; "
                + "".join(f"no-op again {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU; " for r in run["noop_again"])
                + f"F1 {q['f1']:.4f} partition {q['partition']}"
                + (
                    f"; splink {run['splink']['linkage_wall_s']:.1f} s wall, {run['splink']['linkage_cpu_s']:.1f} s CPU"
                    if args.splink
                    else ""
                ),
                file=sys.stderr,
                flush=True,
            )
    results["load_average_at_end"] = os.getloadavg()
    medians = {
        f"{phase}_{figure}": round(statistics.median(r[phase][figure] for r in results["runs"]), 2)
        for phase in ("first", "noop")
        for figure in ("wall_s", "cpu_s", "user_s", "sys_s")
    }
    if args.noop_runs > 1:
        again = [run["noop_again"][-1] for run in results["runs"]]
        medians |= {
            f"noop_again_{figure}": round(statistics.median(r[figure] for r in again), 2) for figure in ("wall_s", "cpu_s")
        }
    medians["init_cpu_s"] = round(statistics.median(r["init"]["cpu_s"] for r in results["runs"]), 2)
    if args.splink:
        for figure in ("linkage_wall_s", "linkage_cpu_s", "base_and_best_wall_s", "process_cpu_s"):
            medians[f"splink_{figure}"] = round(statistics.median(r["splink"][figure] for r in results["runs"]), 2)
        beyond = statistics.median(r["first"]["cpu_s"] - r["noop"]["cpu_s"] for r in results["runs"])
        medians["hub_beyond_noop_cpu_s"] = round(beyond, 2)  # the median of each repeat's difference
        # the ratio: the hub's own work of a first sync over Splink's whole linkage
        medians["ratio_to_splink_wall"] = round(beyond / medians["splink_linkage_wall_s"], 2)
        medians["ratio_to_splink_cpu"] = round(beyond / medians["splink_linkage_cpu_s"], 2)
        medians["ratio_to_splink_process_cpu"] = round(beyond / medians["splink_process_cpu_s"], 2)
    results["medians"] = medians
    print(json.dumps({"commit": commit, "sample": args.sample, **medians}, indent=1))
    RESULTS.mkdir(exist_ok=True)
    suffix = "-api" if args.api else ""
    out = Path(args.out) if args.out else RESULTS / f"ingest-speed-{args.sample}{suffix}-{commit.replace('+', '-')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"→ {out}", file=sys.stderr)
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if "--splink-child" in sys.argv:
        splink_child()
    else:
        main()
