"""`python -m kim_hub.synth OUTDIR PERSONS [--seed N] [--day YYYY-MM-DD]`: generate and report timing."""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

from kim_hub.synth import generate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print counts and persons per second."""
    ap = argparse.ArgumentParser(prog="python -m kim_hub.synth", description=__doc__)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("persons", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--day", type=datetime.date.fromisoformat, default=None)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    summary = generate(args.outdir, args.persons, args.seed, day=args.day)
    elapsed = time.perf_counter() - start
    print(f"{summary.persons} persons, {summary.records} records in {elapsed:.2f}s ({summary.persons / elapsed:,.0f} persons/s)")
    for source, n in summary.records_by_source.items():
        print(f"  {source:10s} {n:>9,d}  {summary.files[source]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
