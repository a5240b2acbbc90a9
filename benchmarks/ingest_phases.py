"""Where a first sync's own work goes, phase by phase, without Prefect: ingest per source, link, push, report.

    .venv/bin/python benchmarks/ingest_phases.py [--sample standard | --persons N] [--repeat 3] [--profile FILE] [--progress] [--out FILE]

The steps of ``flows.sync.sync_flow`` run as the plain pipeline functions its tasks wrap, in this
process, on a fresh home (`kim-hub init` with the fixed test key) with the sample's deliveries in
its inboxes. Per phase it prints wall and CPU seconds of this process (``time.process_time``;
the encode workers, which small files never start, would not count). ``--profile`` writes a
cProfile of the last repeat (``python -m pstats FILE``). Start-up and Prefect are what
``ingest_speed.py`` adds on top. After the report, ``report unchanged`` is the report step of a
sync that changed nothing (``publish_report`` finding the same inputs; not in the total).
``--progress`` runs every phase with the terminal's progress bar watching (``cli.progress``,
drawn into a stream that claims to be a terminal and keeps nothing): what the bar costs.

``--persons N`` ingests a generated population of N persons (``kim-hub generate``'s generator,
seed 1, every source as provider CSV, made once into the work dir) instead of a sample. A file of
5,000 rows or more is encoded by worker processes, whose CPU ``time.process_time`` does not see:
run with ``KIM_HUB_WORKERS=1`` to count all of it. ``--out`` writes every run, the medians, the
commit and the load average before and after as JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # `tests.support`, as pytest finds it from the repository root


def one_run(
    work: Path, index: int, sample_name: str, profiler: cProfile.Profile | None, drops: Path | None = None
) -> dict[str, tuple[float, float]]:
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.ingest import ingest_source
    from kim_hub.pipeline.linking import link_index
    from kim_hub.pipeline.push import push_all
    from kim_hub.pipeline.reports import publish_report, write_reports
    from kim_hub.pipeline.setup import encoding_keys
    from tests.support import copy_sample, init_home
    from tests.support.files import copy_deliveries

    path = init_home(work / f"home-{index}")
    if drops is None:
        copy_sample(path, sample_name)
    else:
        copy_deliveries(sorted((drops / "inbox").glob("*/*.csv")), path)
    phases: dict[str, tuple[float, float]] = {}

    def timed(name: str, step: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            return step()
        finally:
            if profiler is not None:
                profiler.disable()
            phases[name] = (time.perf_counter() - wall, time.process_time() - cpu)

    home = HubHome(path)
    config = home.load_config()
    for source in config.sources:
        with open_sessions(home, config) as sessions:
            timed(f"ingest {source}", partial(ingest_source, home, config, source, encoding_keys(home, config), sessions))
    with open_sessions(home, config) as sessions:
        timed("link", lambda: link_index(sessions, config))
    with open_sessions(home, config) as sessions:
        timed("push", lambda: push_all(home, config, sessions))
    timed("report", lambda: write_reports(home, None, "de"))
    timed(UNCHANGED, lambda: publish_report(home, None, "de"))  # what a sync that changed nothing pays instead
    return phases


UNCHANGED = "report unchanged"  # not part of a first sync: left out of the total


class _Terminal(io.StringIO):
    """Where ``--progress`` draws the bar: a stream that says it is a terminal and keeps nothing."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="standard")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of the last repeat's phases here")
    parser.add_argument("--progress", action="store_true", help="with the terminal's progress bar drawn (into nothing)")
    parser.add_argument("--persons", type=int, help="a generated population of this many persons instead of a sample")
    parser.add_argument("--out", help="write every run and the medians as JSON here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-ingest-phases-"))
    load_before = os.getloadavg()
    drops = None
    if args.persons:
        from kim_hub.synth import generate

        drops = work / "drops"
        generate(drops, args.persons, 1)
    runs = []
    for index in range(args.repeat):
        last = index == args.repeat - 1
        profiler = cProfile.Profile() if args.profile and last else None
        with ExitStack() as stack:
            if args.progress:
                from kim_hub.cli.progress import ingest_progress

                stack.enter_context(ingest_progress("phases", stream=_Terminal()))
            runs.append(one_run(work, index, args.sample, profiler, drops))
        if profiler is not None:
            profiler.dump_stats(args.profile)
    print(f"{'phase':20} {'wall s':>8} {'CPU s':>8}   (medians of {args.repeat})")
    for phase in runs[0]:
        wall = statistics.median(r[phase][0] for r in runs)
        cpu = statistics.median(r[phase][1] for r in runs)
        print(f"{phase:20} {wall:8.2f} {cpu:8.2f}")
    total_wall = statistics.median(sum(w for phase, (w, _) in r.items() if phase != UNCHANGED) for r in runs)
    total_cpu = statistics.median(sum(c for phase, (_, c) in r.items() if phase != UNCHANGED) for r in runs)
    print(f"{'total':20} {total_wall:8.2f} {total_cpu:8.2f}")
    if args.out:
        import json
        import subprocess

        import kim_hub

        where = Path(kim_hub.__file__).resolve().parent
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], check=False, cwd=where, capture_output=True, text=True
        ).stdout.strip()
        result = {
            "commit": commit,
            "data": f"{args.persons} generated persons (seed 1)" if args.persons else f"samples/{args.sample}",
            "workers": os.environ.get("KIM_HUB_WORKERS", "default"),
            "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "median_cpu_s": {phase: round(statistics.median(r[phase][1] for r in runs), 3) for phase in runs[0]},
            "median_wall_s": {phase: round(statistics.median(r[phase][0] for r in runs), 3) for phase in runs[0]},
            "total_cpu_s": round(total_cpu, 3),
            "runs_cpu_s": [{phase: round(cpu, 3) for phase, (_, cpu) in r.items()} for r in runs],
        }
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
