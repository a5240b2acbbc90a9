"""No-op `kim-hub ingest` runs of two installations side by side, and beside a one-task Prefect flow.

    .venv/bin/python benchmarks/noop_ab.py --a /work/main/.venv/bin/kim-hub --b .venv/bin/kim-hub \
        [--one-task] [--api] [--rounds 5] [--out FILE]

Each installation's console script gets its own fresh home (`kim-hub init` with the fixed test
key, the standard sample in the inboxes) and runs `kim-hub ingest` there twice before the
measurement: the first ingest, and a first no-op re-run (which, depending on the installation,
rewrites the report or notes the home as quiet). Then ``--rounds`` times, alternately A, B (and
the one-task flow), one more no-op re-run each, so all see the same load: wall time and the CPU
time (user + system) of the process tree (the process and every child it waited for: Prefect's
temporary server included), with the command's last line (the report's line, where the
installation prints one). Medians to stdout; every run to ``benchmarks/results/noop-ab-<date>.json``.

``--one-task`` adds the yardstick of issue 23: a Prefect flow of one trivial task, run by B's
interpreter in a process of its own (its own PREFECT_HOME, analytics off as the hub sets them,
Prefect's logging as it comes), warmed up once; and the same flow with one string parameter
(``one_task_param``: Prefect serialises a flow's parameters with FastAPI's encoder, which costs
an import the parameterless flow never pays). The medians then carry each installation's ratio
to both. ``--api`` starts one Prefect server (tests.support.prefect) and points every run at
it (the hub by KIM_HUB_PREFECT_API_URL, the flow by PREFECT_API_URL); without it each run pays
its own temporary server (the hub's, ``flows.temporary_api``; Prefect's own for the flow).
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
from contextlib import ExitStack
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # `tests.support`, as pytest finds it from the repository root
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")


ONE_TASK_FLOW = """
from prefect import flow, task

@task
def one() -> int:
    return 1

@flow
def one_task_flow() -> int:
    return one()

one_task_flow()
"""
# The same with one parameter, as every flow of the hub has (the home's path): Prefect validates a
# flow's parameters and serialises them for the API with FastAPI's encoder, which it imports then.
ONE_TASK_FLOW_WITH_PARAMETER = ONE_TASK_FLOW.replace("def one_task_flow()", "def one_task_flow(home_path: str)").replace(
    "one_task_flow()\n", "one_task_flow('/srv/kim-hub')\n"
)


def measured(command: list[str], env: dict[str, str]) -> dict:
    """One run of ``command``: wall, CPU of its tree, its last line of output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} exited {child.returncode}: {child.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    lines = (child.stdout.strip() or child.stderr.strip() or "-").splitlines()
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load1": round(os.getloadavg()[0], 2), "last_line": lines[-1][:80]}


def ingest(script: str, home: Path, api: str | None = None) -> dict:
    """One `kim-hub ingest` of ``script`` on ``home`` (against ``api``, a running server, if given)."""
    env = {**os.environ, **({"KIM_HUB_PREFECT_API_URL": api} if api else {})}
    return measured([script, "ingest", "--home", str(home)], env)


def one_task(python: str, prefect_home: Path, api: str | None = None, code: str = ONE_TASK_FLOW) -> dict:
    """One run of the one-task flow (``code``) by ``python``, its state in ``prefect_home``."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_PROFILES_PATH": str(prefect_home / "profiles.toml"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600",
        **({"PREFECT_API_URL": api} if api else {}),
    }
    return measured([python, "-c", code], env)


def main() -> None:
    from tests.support import copy_sample, init_home

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the first installation's kim-hub console script")
    parser.add_argument("--b", required=True, help="the second installation's kim-hub console script")
    parser.add_argument("--one-task", action="store_true", help="also a one-task Prefect flow, by B's interpreter")
    parser.add_argument("--api", action="store_true", help="one running Prefect server for every run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sample", default="standard")
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/noop-ab-<date>.json)")
    args = parser.parse_args()
    scripts = {"a": args.a, "b": args.b}
    work = Path(tempfile.mkdtemp(prefix="kim-noop-ab-"))
    python = str(Path(args.b).parent / "python")
    load_at_start = os.getloadavg()
    with ExitStack() as stack:
        api = None
        if args.api:
            from tests.support.prefect import prefect_server

            api = stack.enter_context(prefect_server(work / "prefect-server"))
        homes = {}
        for name, script in scripts.items():
            homes[name] = init_home(work / name, api=api)
            copy_sample(homes[name], args.sample)
            ingest(script, homes[name], api)  # the first ingest
            ingest(script, homes[name], api)  # the first no-op: the report rewritten, or the home noted quiet
        contenders = {name: (lambda s=script, h=homes[name]: ingest(s, h, api)) for name, script in scripts.items()}
        if args.one_task:
            for name, code in (("one_task", ONE_TASK_FLOW), ("one_task_param", ONE_TASK_FLOW_WITH_PARAMETER)):
                flow_home = work / name
                flow_home.mkdir()
                one_task(python, flow_home, api, code)  # its first run makes its Prefect database
                contenders[name] = lambda h=flow_home, c=code: one_task(python, h, api, c)
        runs: dict[str, list[dict]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, run in contenders.items():
                runs[name].append(run())
                print(name, runs[name][-1], file=sys.stderr, flush=True)
    medians: dict[str, dict[str, float]] = {
        name: {figure: statistics.median(r[figure] for r in done) for figure in ("wall_s", "cpu_s")}
        for name, done in runs.items()
    }
    if args.one_task:
        for name in scripts:
            for yardstick in ("one_task", "one_task_param"):
                for figure in ("wall_s", "cpu_s"):
                    ratio = medians[name][figure] / medians[yardstick][figure]
                    medians[name][f"{figure[:-2]}_ratio_to_{yardstick}"] = round(ratio, 2)
    print(json.dumps(medians, indent=1))
    out = Path(args.out) if args.out else _HERE / "results" / f"noop-ab-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    document = {
        "scripts": scripts,
        "one_task": args.one_task,
        "api": "running server" if args.api else "temporary server per run",
        "sample": args.sample,
        "cpus": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "runs": runs,
        "medians": medians,
    }
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(f"→ {out}", file=sys.stderr)
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
