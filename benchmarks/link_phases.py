"""The link step's phases on an ingested home: the wall and CPU seconds of each, one run.

    .venv/bin/python benchmarks/relink.py --persons 461000 --repeat 1 --keep-home /tmp/relink-1m
    .venv/bin/python benchmarks/link_phases.py --home /tmp/relink-1m [--out FILE]

``relink.py`` times the link step whole; this says where its time goes. The ingested home that
``relink.py --keep-home`` made is copied and its records are linked from empty by the link step a
sync runs (``pipeline.linking.link_index`` on the home's sessions and policy), in this process,
with each step it calls through ``hub_db.master_index`` wrapped in a timer, and the index's load
and the snapshot's save through ``index_snapshot``. What no timer holds (the commit, mostly) is
the whole call's time less theirs. Per phase: wall seconds and this process's CPU seconds (all
its threads: the scoring's run in parallel). Worker processes, which open and parse the stored
encodings for the load, are not in this process's CPU. A timer costs microseconds, and each
step is called once or a few times.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (name shown, module attribute of hub_db.master_index that link_pending calls)
STEPS = [
    ("learnt given names", "_learnt_given_names"),
    ("EM (new parameters)", "_new_parameters"),
    ("store the new model", "_store_new_model"),
    ("household release", "household_release"),
    ("candidate pairs", "candidate_pair_pieces"),
    ("scoring", "score_candidates"),
    ("clustering", "_cluster_scope"),
    ("assigning persons", "assign_persons"),
    ("review items", "_store_review_items"),
    ("dequeue", "dequeue"),
]


def main() -> None:
    from measured_checkout import measured_checkout  # beside this script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a directory made by relink.py --keep-home (its home/ inside)")
    parser.add_argument("--out", type=Path, help="result JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kim-hub-link-phases-") as work:
        copy = Path(work) / "home"
        shutil.copytree(args.home / "home", copy, symlinks=True)
        phases, outcome = link_timed(copy)
    total_wall = sum(wall for wall, _cpu in phases.values())
    print(f"{'phase':28s} {'wall s':>8s} {'CPU s':>8s}")
    for name, (wall, cpu) in phases.items():
        print(f"{name:28s} {wall:8.2f} {cpu:8.2f}")
    print(f"{'all phases':28s} {total_wall:8.2f}")
    print(outcome)
    if args.out:
        document = {
            "benchmark": f"benchmarks/link_phases.py --home {args.home}",
            "commit": measured_checkout()[1],
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "phases_wall_cpu_s": {name: [round(wall, 2), round(cpu, 2)] for name, (wall, cpu) in phases.items()},
            "outcome": outcome,
        }
        args.out.write_text(json.dumps(document, indent=2) + "\n")


def link_timed(home_path: Path) -> tuple[dict[str, tuple[float, float]], str]:
    """Link the home's queued records once, every step timed; (phase → (wall, CPU)) and the outcome."""
    from kim_hub.hub_db import master_index
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.linking import link_index

    phases: dict[str, tuple[float, float]] = {}

    def timed(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(step)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return step(*args, **kwargs)
            finally:
                before = phases.get(name, (0.0, 0.0))
                phases[name] = (before[0] + time.perf_counter() - wall, before[1] + time.process_time() - cpu)

        return wrapper

    snapshot = master_index.index_snapshot
    snapshot.load = timed("load", snapshot.load)
    snapshot.save = timed("snapshot save", snapshot.save)
    for name, attribute in STEPS:
        setattr(master_index, attribute, timed(name, getattr(master_index, attribute)))
    home = HubHome(home_path)
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = link_index(sessions, config)
        whole = (time.perf_counter() - wall, time.process_time() - cpu)
    phases["the rest (commit, …)"] = (
        whole[0] - sum(w for w, _c in phases.values()),
        whole[1] - sum(c for _w, c in phases.values()),
    )
    return phases, repr(outcome)


if __name__ == "__main__":
    main()
