"""What the ingest's progress bar costs on a bigger ingest: the same generated deliveries ingested
and linked without and with the bar, alternately.

    .venv/bin/python benchmarks/progress_cost.py [--persons 10000] [--rounds 2] [--out FILE]

The deliveries of ``--persons`` generated persons (``synth.generate``, seed 3) go into a fresh
home each time (the fixed test key); every source is ingested and the index linked with the
pipeline's functions in this process (``KIM_HUB_WORKERS=1``, so all the work is this process's
CPU time, every thread included), once as cron runs it (no watcher) and once with the terminal's
bar (``cli.progress``) drawing into a stream that claims to be a terminal and keeps nothing.
Every run to ``benchmarks/results/progress-cost-<persons>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # `tests.support`, as pytest finds it from the repository root
os.environ["KIM_HUB_WORKERS"] = "1"


class _Terminal(io.StringIO):
    """A stream that says it is a terminal and keeps nothing."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def one_run(files: list[Path], home_path: Path, bar: bool) -> dict:
    from kim_hub.cli.progress import ingest_progress
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.ingest import ingest_source
    from kim_hub.pipeline.linking import link_index
    from kim_hub.pipeline.setup import encoding_keys
    from tests.support import copy_deliveries, init_home

    copy_deliveries(files, init_home(home_path))
    home = HubHome(home_path)
    config = home.load_config()
    with ExitStack() as stack:
        if bar:
            stack.enter_context(ingest_progress("progress cost", stream=_Terminal()))
        wall, cpu = time.perf_counter(), time.process_time()
        rows = 0
        for source in config.sources:
            with open_sessions(home, config) as sessions:
                rows += ingest_source(home, config, source, encoding_keys(home, config), sessions).records_in
        ingest_cpu = time.process_time() - cpu
        with open_sessions(home, config) as sessions:
            link_index(sessions, config)
        return {
            "bar": bar,
            "rows": rows,
            "ingest_cpu_s": round(ingest_cpu, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "wall_s": round(time.perf_counter() - wall, 2),
            "load1": round(os.getloadavg()[0], 2),
        }


def main() -> None:
    from kim_hub.synth import generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/progress-cost-<persons>.json)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-progress-cost-"))
    generate(work / "drops", args.persons, 3, workers=1)
    files = [*(work / "drops" / "inbox").rglob("*.csv"), *(work / "drops" / "inbox").rglob("*.xml")]
    runs = []
    for index in range(args.rounds):
        for bar in (False, True):
            runs.append(one_run(files, work / f"home-{index}-{int(bar)}", bar))
            print(runs[-1], file=sys.stderr, flush=True)
    out = Path(args.out) if args.out else _HERE / "results" / f"progress-cost-{args.persons}.json"
    out.write_text(json.dumps({"persons": args.persons, "cpus": os.cpu_count(), "runs": runs}, indent=1) + "\n")
    print(f"→ {out}", file=sys.stderr)
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
