"""Where scoring the candidate pairs spends its time, stage by stage, in one thread (a component benchmark).

    .venv/bin/python benchmarks/scoring_stages.py --home /tmp/relink-1m/home [--every 3] [--repeat 3] [--out FILE]
    PYTHONPATH=/tmp/oldpkg /work/main/.venv/bin/python benchmarks/scoring_stages.py --home …   # another checkout

The home is one ``relink.py --keep-home`` made (generated drops ingested through the connectors)
and linked once, so that it holds a model version: the index is loaded as a link run loads it
(``hub_db.index_snapshot.load``), the latest stored model applied to it, the blocking keys and
pieces made as ``hub_db.master_index.link_pending`` makes them. Then every ``--every``-th piece
is scored as ``linkage.link.score_candidates`` scores it, but in this thread with each stage
timed: making the piece's pairs, the cheap fields' levels, the prior shifts, the bound, the names
of the hopeful pairs, the scores. Per stage: nanoseconds per candidate pair, the median of
``--repeat`` passes. Whole link runs are ``relink.py``'s; this says which stage a change moved.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home relink.py made and linked once")
    parser.add_argument("--every", type=int, default=3, help="score every n-th piece of candidate pairs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="result JSON")
    args = parser.parse_args()
    arr, model = load(args.home)
    passes: list[dict[str, float]] = []
    counts: dict[str, int] = defaultdict(int)
    for repeat in range(args.repeat):
        passes.append(score_in_stages(arr, model, args.every, counts if repeat == 0 else defaultdict(int)))
        print(f"pass {repeat + 1}: {sum(passes[-1].values()):.1f} s", file=sys.stderr, flush=True)
    report(passes, counts, len(arr), args)


def load(path: Path) -> tuple[Any, Any]:
    """The home's index, loaded as a link run loads it, and its latest model applied to it."""
    from sqlalchemy import select

    from kim_hub.hub_db import index_snapshot
    from kim_hub.hub_db.models import ModelVersion
    from kim_hub.linkage.model import MatchModel
    from kim_hub.pipeline.database import open_sessions
    from kim_hub.pipeline.home import HubHome

    with open_sessions(HubHome(path)) as sessions, sessions() as session:
        arr = index_snapshot.load(session).arrays
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one_or_none()
    if stored is None:
        raise SystemExit("the home holds no model version: link it once (relink.py does)")
    return arr, MatchModel.from_dict(stored.parameters).applied_to(arr)


def score_in_stages(arr: Any, model: Any, every: int, counts: dict[str, int]) -> dict[str, float]:
    """Seconds per stage of scoring every ``every``-th piece (``score_candidates``' steps, one thread)."""

    from kim_hub.linkage.blocking_arrays import block_keys, candidate_pair_pieces
    from kim_hub.linkage.cluster import Thresholds
    from kim_hub.linkage.compare_arrays import BATCH, cheap_levels, with_names
    from kim_hub.linkage.link import _with_azr_typos
    from kim_hub.linkage.weight_bound import BayesFactorBound

    pieces = candidate_pair_pieces(arr, keys=block_keys(arr))
    floor = Thresholds().review - model.prior_log_odds
    bound = BayesFactorBound(arr, model)
    seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds[name] += time.perf_counter() - started

    for index in range(0, len(pieces), every):
        with stage("pairs"):
            a, b = pieces[index]
        for start in range(0, len(a), BATCH):
            pa, pb = a[start : start + BATCH], b[start : start + BATCH]
            with stage("cheap fields"):
                levels, date_token = cheap_levels(arr, pa, pb)
            with stage("prior shifts"):
                shift = model.prior_shifts(arr.body[pa], arr.body[pb])
            with stage("bound"):
                hopeful = bound.hopeful(pa, pb, levels, date_token, floor - shift)
            qa, qb, qshift = pa[hopeful], pb[hopeful], shift[hopeful]
            with stage("names"):
                full = with_names(arr, qa, qb, levels[hopeful], date_token[hopeful])
            with stage("scores"):
                bayes = _with_azr_typos(arr, model, qa, qb, full, floor - qshift) + qshift
            counts["pairs"] += len(pa)
            counts["hopeful"] += len(hopeful)
            counts["reaching review"] += int((bayes >= floor).sum())
    return dict(seconds)


def report(passes: list[dict[str, float]], counts: dict[str, int], records: int, args: argparse.Namespace) -> None:
    pairs = counts["pairs"]
    medians = {stage: statistics.median(p[stage] for p in passes) for stage in passes[0]}
    print(
        f"{records:,} records, {pairs:,} candidate pairs scored (every {args.every}. piece), "
        f"{counts['hopeful']:,} hopeful, {counts['reaching review']:,} reaching review"
    )
    print(f"{'stage':14} {'ns/pair':>8} {'s':>7}   (medians of {args.repeat}, one thread)")
    for stage, seconds_taken in medians.items():
        print(f"{stage:14} {seconds_taken / pairs * 1e9:8.1f} {seconds_taken:7.2f}")
    total = sum(medians.values())
    print(f"{'total':14} {total / pairs * 1e9:8.1f} {total:7.2f}")
    if args.out:
        from measured_checkout import measured_checkout  # beside this script

        checkout, commit = measured_checkout()
        result = {
            "checkout": str(checkout),
            "commit": commit,
            "records": records,
            "counts": dict(counts),
            "every": args.every,
            "passes": passes,
            "median_ns_per_pair": {stage: round(s / pairs * 1e9, 1) for stage, s in medians.items()},
        }
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
