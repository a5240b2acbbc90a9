"""What each blocking key kind costs and finds, on an ingested home: candidate pairs against true pairs.

    .venv/bin/python benchmarks/relink.py --persons 461000 --repeat 1 --keep-home /tmp/relink-1m
    .venv/bin/python benchmarks/blocking_yield.py --home /tmp/relink-1m [--max-block 400]

Reads the index of a home that ``relink.py --keep-home`` made (ingested through the real path,
its generator's ``truth.csv`` beside it) and, for every kind of ``linkage.blocking_arrays``, makes
that kind's candidate pairs alone (``--cap KIND=N``: with a smaller largest block than the
linker's): how many, how many of them are true pairs, how many true pairs no other kind finds, and
how many pairs come from blocks above 100 and 200 records. The pairs the linker scores are the
union over kinds; the scoring's time follows their number. So a kind whose large blocks bring many
pairs and few true pairs of its own is where the candidate pairs can shrink; the union's size and
the true pairs it holds, with and without caps, say by how much and at what cost.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kim_hub.linkage.columnar import EncodingArrays

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def truth_rows(home_path: Path, truth_file: Path, ids: np.ndarray) -> np.ndarray:
    """The generator's person number of every row of the index (-1: not in the truth)."""
    from sqlalchemy import select

    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.models import SourceRecord
    from kim_hub.pipeline.home import HubHome
    from tests.support.data import stored_truth

    truth = stored_truth(truth_file, home_path)
    numbers: dict[str, int] = {}
    home = HubHome(home_path)
    engine = make_engine(home.database_url(home.load_config()))
    with session_factory(engine)() as session:
        person = {
            i: numbers.setdefault(truth[(s, r)], len(numbers)) if (s, r) in truth else -1
            for i, s, r in session.execute(select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id))
        }
    engine.dispose()
    return np.fromiter((person.get(int(i), -1) for i in ids), dtype=np.int64, count=len(ids))


def kind_pairs(arr: EncodingArrays, kind: str, max_block: int) -> tuple[np.ndarray, dict[str, int]]:
    """One kind's candidate pairs as sorted codes (a * n + b), and its blocks' shape."""
    from kim_hub.linkage.blocking_arrays import PairPieces, block_keys

    n = len(arr)
    h, r = block_keys(arr, kinds={kind})
    shape: dict[str, int] = {"keys": 0, "pairs_from_blocks_over_100": 0, "pairs_from_blocks_over_200": 0}
    if len(h):
        _keys, sizes = np.unique(h, return_counts=True)
        used = sizes[(sizes >= 2) & (sizes <= max_block)].astype(np.int64)
        shape = {
            "keys": len(used),
            "pairs_from_blocks_over_100": int((used[used > 100] * (used[used > 100] - 1) // 2).sum()),
            "pairs_from_blocks_over_200": int((used[used > 200] * (used[used > 200] - 1) // 2).sum()),
        }
    pieces = PairPieces(h, r, n, max_block)
    codes = [a * np.int64(n) + b for a, b in pieces]
    return (np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)), shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home made by relink.py --keep-home (truth.csv beside it)")
    parser.add_argument("--max-block", type=int, help="the largest block kept (default: the linker's)")
    parser.add_argument(
        "--cap", action="append", default=[], metavar="KIND=N", help="a smaller largest block for one kind (repeatable)"
    )
    parser.add_argument("--out", type=Path, help="result JSON (default: print only)")
    args = parser.parse_args()

    from kim_hub.hub_db.database import make_engine, session_factory
    from kim_hub.hub_db.master_index import load_index
    from kim_hub.linkage.blocking import DEFAULT_MAX_BLOCK
    from kim_hub.linkage.blocking_arrays import _KINDS
    from kim_hub.pipeline.database import auditor_for, keyring_for
    from kim_hub.pipeline.home import HubHome

    max_block = args.max_block or DEFAULT_MAX_BLOCK
    caps = {kind: int(size) for kind, size in (cap.split("=") for cap in args.cap)}
    home = HubHome(args.home / "home")
    config = home.load_config()
    engine = make_engine(home.database_url(config))
    sessions = session_factory(engine, auditor_for(home, config), keyring_for(home, config))
    started = time.perf_counter()
    with sessions() as session:
        arr = load_index(session)
    engine.dispose()
    print(f"index of {len(arr)} records loaded in {time.perf_counter() - started:.1f} s", flush=True)
    person = truth_rows(args.home / "home", args.home / "truth.csv", arr.ids)
    n = np.int64(len(arr))

    by_kind: dict[str, np.ndarray] = {}
    every_pair: list[np.ndarray] = []
    report: dict[str, dict[str, int]] = {}
    for kind in _KINDS:  # "name+day" makes the prior's calibration pairs, no candidate pairs: 0
        codes, shape = kind_pairs(arr, kind, caps.get(kind, max_block))
        every_pair.append(codes)
        a, b = codes // n, codes % n
        true = (person[a] == person[b]) & (person[a] >= 0)
        by_kind[kind] = codes[true]
        report[kind] = {"pairs": len(codes), "true_pairs": int(true.sum()), **shape}
        print(f"{kind:20} {len(codes):>12,} pairs {int(true.sum()):>10,} true", flush=True)
    candidates = len(np.unique(np.concatenate(every_pair)))
    del every_pair
    everything = np.concatenate(list(by_kind.values()))
    found, counts = np.unique(everything, return_counts=True)
    alone = found[counts == 1]
    for kind, codes in by_kind.items():
        report[kind]["true_pairs_no_other_kind_finds"] = int(np.isin(codes, alone, assume_unique=True).sum())
    _persons, sizes = np.unique(person[person >= 0], return_counts=True)
    result = {
        "home": str(args.home),
        "records": int(n),
        "max_block": max_block,
        "caps": caps,
        "candidate_pairs": candidates,
        "true_pairs": int((sizes * (sizes - 1) // 2).sum()),
        "true_pairs_blocked": len(found),
        "kinds": report,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
