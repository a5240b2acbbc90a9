"""No-op `kim-hub ingest` runs of two installations side by side: does a change make the no-op sync cheaper?

    .venv/bin/python benchmarks/noop_ab.py --a /work/main/.venv/bin/kim-hub --b .venv/bin/kim-hub [--rounds 5] [--out FILE]

Each installation's console script gets its own fresh home (`kim-hub init` with the fixed test
key, the standard sample in the inboxes) and runs `kim-hub ingest` there twice before the
measurement: the first ingest, and a first no-op re-run (which still rewrites the report: its run
summary differs from the first's). Then ``--rounds`` times, alternately A and B, one more no-op
re-run each, so both see the same load: wall time and the CPU time (user + system) of the
process tree (the process and every child it waited for: Prefect's temporary server included),
with the command's last line (the report's line, where the installation prints one). Medians to
stdout; every run to ``benchmarks/results/noop-ab-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # `tests.support`, as pytest finds it from the repository root
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")


def ingest(script: str, home: Path) -> dict:
    """One `kim-hub ingest` of ``script`` on ``home``: wall, CPU of its tree, its last line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run([script, "ingest", "--home", str(home)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{script} ingest exited {child.returncode}: {child.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    lines = child.stdout.strip().splitlines()
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load1": round(os.getloadavg()[0], 2), "last_line": lines[-1][:80]}


def main() -> None:
    from tests.support import copy_sample, init_home

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the first installation's kim-hub console script")
    parser.add_argument("--b", required=True, help="the second installation's kim-hub console script")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sample", default="standard")
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/noop-ab-<date>.json)")
    args = parser.parse_args()
    scripts = {"a": args.a, "b": args.b}
    work = Path(tempfile.mkdtemp(prefix="kim-noop-ab-"))
    homes = {}
    for name, script in scripts.items():
        homes[name] = init_home(work / name)
        copy_sample(homes[name], args.sample)
        ingest(script, homes[name])  # the first ingest
        ingest(script, homes[name])  # the first no-op: its run summary is new, so its report is written
    runs: dict[str, list[dict]] = {name: [] for name in scripts}
    for _ in range(args.rounds):
        for name, script in scripts.items():
            runs[name].append(ingest(script, homes[name]))
            print(name, runs[name][-1], file=sys.stderr, flush=True)
    medians = {
        name: {figure: statistics.median(r[figure] for r in done) for figure in ("wall_s", "cpu_s")}
        for name, done in runs.items()
    }
    print(json.dumps(medians, indent=1))
    out = Path(args.out) if args.out else _HERE / "results" / f"noop-ab-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    document = {"scripts": scripts, "sample": args.sample, "cpus": os.cpu_count(), "runs": runs, "medians": medians}
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"→ {out}", file=sys.stderr)
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
