"""Which comparison fails: kim-hub's false negatives and false positives on a benchmark data set.

    .venv/bin/python benchmarks/error_analysis.py --dataset febrl3 [--sample 15] [--seed 1] [--without-identifier]

Runs kim-hub as the benchmark does (fresh key, ``link_all`` with defaults), then

* counts every missed true pair (false negative) by cause: never blocked, blocked by a
  cannot-link (identifiers not one digit apart), scored below the automatic threshold, or
  scored above it but not merged (cluster average, no individual evidence, …);
* tabulates the level of each field among missed pairs against all true pairs;
* prints a sample of false negatives and false positives with their comparison levels
  (``linkage.compare.compare(...).levels``), match weight and the clear values.

Clear values are printed: use it on synthetic data only (FEBRL, samples, generated).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import bench_data
import bench_kimhub
import numpy as np

from kim_hub.linkage import compare as compare_module
from kim_hub.linkage.blocking import candidate_pairs
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.compare import FIELDS, LEVELS, MISSING, compare, identifiers_conflict
from kim_hub.linkage.household import NOTHING_RELEASED, Release
from kim_hub.linkage.link import link_all
from kim_hub.linkage.model import MatchModel
from kim_hub.mappings.case_summary import Identity

_HERE = Path(__file__).resolve().parent


def clear(identity: Identity) -> str:
    bd = identity.birth_date
    date = "-" if bd is None else f"{bd.year:04d}-{bd.month or 0:02d}-{bd.day or 0:02d}"
    parts = [
        f"{identity.name.given_names or '-'} {identity.name.family_name or '-'}",
        date,
        identity.street or "-",
        identity.postcode or "-",
        f"id {identity.azr_number or '-'}",
    ]
    if identity.sex or identity.nationalities or identity.birth_place:
        parts += [identity.sex or "-", "|".join(identity.nationalities) or "-", identity.birth_place or "-"]
    return " | ".join(parts)


def identifier_difference(a: str | None, b: str | None) -> str:
    """How two clear identifiers differ (to see which corruption the cannot-link rule meets)."""
    a, b = a or "", b or ""
    if len(a) != len(b):
        return "different length (digit inserted or deleted)"
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return "two adjacent digits transposed"
    if len(diff) == 2:
        return "two digits differ"
    return f"{len(diff)} of {len(a)} digits differ"


def level_shares(rows: list[tuple[int, ...]], index: int) -> str:
    """Share of each level of one field among the rows where the field is present."""
    present = [r[index] for r in rows if r[index] != MISSING]
    if not present:
        return "(missing)"
    counts = Counter(present)
    return " ".join(f"{level}:{counts[level] / len(present):.0%}" for level in sorted(counts))


def level_text(levels: tuple[int, ...]) -> str:
    out = []
    for name, level in zip(FIELDS, levels):
        if level == MISSING:
            continue
        out.append(f"{name}={level}({LEVELS[name][level]})")
    return ", ".join(out)


@dataclass
class _Diagnosis:
    """Why kim-hub did not link a true pair: the first cause in the order of the linking steps."""

    encodings: dict
    model: MatchModel
    blocked: set[tuple[int, int]]
    thresholds: Thresholds
    released: Release = NOTHING_RELEASED

    def cause(self, a: int, b: int) -> tuple[str, float]:
        comparison = compare(self.encodings[a], self.encodings[b])
        weight = self.model.score(comparison)
        individual = getattr(compare_module, "individual_evidence", None)
        if identifiers_conflict(self.encodings[a], self.encodings[b]):
            return "cannot-link (identifiers differ in more than one digit)", weight
        if (a, b) not in self.blocked:
            return "never blocked together", weight
        if weight < self.thresholds.auto:
            return "blocked, weight below the auto threshold", weight
        let_go = bool(self.released.released(np.array([comparison.levels]))[0])
        if individual is not None and not individual(comparison) and not let_go:
            return "weight above threshold, but no individual evidence", weight
        return "weight above threshold, not merged (cluster average / order)", weight


def _load(dataset: str, persons: int, seed: int) -> bench_data.BenchData:
    with tempfile.TemporaryDirectory(prefix="kim-errors-") as scratch:
        folder = None
        if dataset == "generated":
            from kim_hub.synth import generate

            generate(Path(scratch), persons, seed)
            folder = Path(scratch)
        elif dataset == "partial":
            import partial_evidence

            partial_evidence.write(Path(scratch), persons, seed)
            folder = Path(scratch)
        return bench_data.load(dataset, folder)


def _pairs_within(groups: dict) -> list[tuple[int, int]]:
    """Every pair of records that share a group (a true person, a cluster)."""
    by_group: dict[object, list[int]] = defaultdict(list)
    for record, group in groups.items():
        by_group[group].append(record)
    return [(a, b) for members in by_group.values() for a, b in combinations(sorted(members), 2)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="febrl3", choices=bench_data.DATASETS)
    parser.add_argument("--sample", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--persons", type=int, default=20000, help="for --dataset generated or partial")
    parser.add_argument(
        "--without-identifier",
        action="store_true",
        help="drop every AZR number (FEBRL's soc_sec_id): as benchmarks/public_csv.py measures FEBRL3",
    )
    parser.add_argument(
        "--twins-ruled-out",
        action="store_true",
        help="as after reviewers found the twins' pattern to be one person (linkage.household)",
    )
    args = parser.parse_args(argv)

    data = _load(args.dataset, args.persons, args.seed)
    if args.without_identifier:
        data.identities = [identity.model_copy(update={"azr_number": None}) for identity in data.identities]
    encodings = bench_kimhub.prepare(data)
    result, model = link_all(encodings, twins_ruled_out=args.twins_ruled_out)
    released = model.household_census.release(decided_twins=args.twins_ruled_out)
    print(f"census: {model.household_census}; let go: {released}")
    diagnosis = _Diagnosis(encodings, model, candidate_pairs(encodings), Thresholds(), released)
    cluster_of = {r: c for c, members in enumerate(result.clusters) for r in members}
    true_pairs = _pairs_within(dict(enumerate(data.truth)))
    predicted = _pairs_within(cluster_of)
    fn = [p for p in true_pairs if cluster_of[p[0]] != cluster_of[p[1]]]
    fp = [p for p in predicted if data.truth[p[0]] != data.truth[p[1]]]
    print(
        f"{args.dataset}: {len(data)} records, {len(true_pairs)} true pairs, {len(predicted)} predicted pairs, "
        f"{len(fn)} false negatives, {len(fp)} false positives; auto threshold {diagnosis.thresholds.auto}"
    )
    _print_causes(diagnosis, fn)
    _print_identifier_conflicts(data, encodings, true_pairs)
    _print_level_shares(encodings, true_pairs, fn)
    rng = random.Random(args.seed)
    for title, pairs in (("FALSE NEGATIVES", fn), ("FALSE POSITIVES", fp)):
        print(f"\n{title}: {min(args.sample, len(pairs))} of {len(pairs)}")
        for a, b in sorted(rng.sample(pairs, min(args.sample, len(pairs)))):
            comparison = compare(encodings[a], encodings[b])
            why, weight = diagnosis.cause(a, b) if title.startswith("FALSE N") else ("linked", model.score(comparison))
            print(f"- {data.keys[a]} ~ {data.keys[b]}  weight {weight:+.1f}  [{why}]")
            print(f"    levels: {level_text(comparison.levels)}")
            print(f"    a: {clear(data.identities[a])}")
            print(f"    b: {clear(data.identities[b])}")
    return 0


def _print_causes(diagnosis: _Diagnosis, fn: list[tuple[int, int]]) -> None:
    causes = Counter(diagnosis.cause(a, b)[0] for a, b in fn)
    print("\nfalse negatives by cause:")
    for text, count in causes.most_common():
        print(f"  {count:6d}  {text}")


def _print_identifier_conflicts(data: bench_data.BenchData, encodings: dict, true_pairs: list[tuple[int, int]]) -> None:
    conflicts = [(a, b) for a, b in true_pairs if identifiers_conflict(encodings[a], encodings[b])]
    if conflicts:
        kinds = Counter(identifier_difference(data.identities[a].azr_number, data.identities[b].azr_number) for a, b in conflicts)
        print(f"\ntrue pairs whose identifiers conflict (a cannot-link): {len(conflicts)} of {len(true_pairs)}")
        for text, count in kinds.most_common():
            print(f"  {count:6d}  {text}")


def _print_level_shares(encodings: dict, true_pairs: list[tuple[int, int]], fn: list[tuple[int, int]]) -> None:
    print("\nlevels among all true pairs vs. missed true pairs (share of pairs with the field present):")
    all_levels = [compare(encodings[a], encodings[b]).levels for a, b in true_pairs]
    fn_levels = [compare(encodings[a], encodings[b]).levels for a, b in fn]
    for i, name in enumerate(FIELDS):
        if all(r[i] == MISSING for r in all_levels):
            continue
        print(f"  {name:12} true {level_shares(all_levels, i):40} missed {level_shares(fn_levels, i)}")


if __name__ == "__main__":
    raise SystemExit(main())
