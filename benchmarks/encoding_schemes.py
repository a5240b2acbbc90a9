"""What the encoding scheme costs: encoding, reading stored encodings into columns, comparing.

    .venv/bin/python benchmarks/encoding_schemes.py [--persons 20000] [--repeat 3] [--out FILE]

A generated population (every source's export, read and mapped by the hub's own code) is encoded
under one master key with scheme 1 (plain Bloom filters) and scheme 2 (diffused,
``linkage.keyed``), alternately, ``--repeat`` times: the encoding with cold caches (as a fresh
worker process starts), the stored form read into columns (``linkage.columnar_packed.from_opened_rows``
of ``linkage.encoding_bytes.pack``, what a link run does with records it has no snapshot of), and every candidate pair of blocking
compared (``linkage.compare_arrays.compare_pairs``). The same code runs both schemes, so the
difference is the scheme's. Beside them, what sealing at rest costs (``linkage.sealed``): each
stored encoding sealed and opened again, and its sealed size. Medians and maxima go to stdout and to
``benchmarks/results/encoding-schemes-<date>-<commit>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.columnar_packed import from_opened_rows
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.encode import encode_identity, forget_cached_encodings
from kim_hub.linkage.encoding_bytes import forget_cached_packing, pack
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM, EncodingKeys
from kim_hub.mappings.case_summary import CaseSummary, Identity
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.synth import generate

RESULTS = Path(__file__).resolve().parent / "results"


def identities(persons: int, seed: int) -> list[Identity]:
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch), persons, seed=seed, workers=1)
        found = []
        for path in sorted(Path(scratch, "inbox").rglob("*.csv")):
            for row in ProviderCsvConnector.read_file(path).rows:
                mapped = map_provider_row(path.parent.name, row)
                if isinstance(mapped, CaseSummary):
                    found.append(mapped.identity)
    return found


def measure(people: list[Identity], keys: EncodingKeys) -> dict[str, float]:
    forget_cached_encodings()
    forget_cached_packing()
    started = time.perf_counter()
    encodings = [encode_identity(identity, keys) for identity in people]
    encode = time.perf_counter() - started
    json_bytes = sum(len(e.to_json()) for e in encodings) / len(encodings)  # the form earlier releases stored
    texts = [(i, pack(e)) for i, e in enumerate(encodings)]
    started = time.perf_counter()
    sealed = [keys.seal_encoding(text, "bench", f"{i:016x}") for i, text in texts]
    seal = time.perf_counter() - started
    started = time.perf_counter()
    opened = [(i, keys.open_encoding(stored, "bench", f"{i:016x}")) for i, stored in enumerate(sealed)]
    open_ = time.perf_counter() - started
    assert opened == texts
    started = time.perf_counter()
    arrays = from_opened_rows(texts)
    load = time.perf_counter() - started
    a, b = candidate_pair_arrays(arrays)
    started = time.perf_counter()
    compare_pairs(arrays, a, b)
    compare = time.perf_counter() - started
    return {
        "encode_us_per_record": encode / len(people) * 1e6,
        "load_us_per_record": load / len(people) * 1e6,
        "compare_ns_per_pair": compare / max(len(a), 1) * 1e9,
        "pairs": float(len(a)),
        "json_bytes_per_record": json_bytes,
        "packed_bytes_per_record": sum(len(t) for _i, t in texts) / len(texts),
        "seal_us_per_record": seal / len(people) * 1e6,
        "open_us_per_record": open_ / len(people) * 1e6,
        "sealed_bytes_per_record": sum(len(s) for s in sealed) / len(sealed),
    }


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    people = identities(args.persons, args.seed)
    master = os.urandom(32)
    runs: dict[int, list[dict[str, float]]] = {PLAIN_BLOOM: [], DIFFUSED_BLOOM: []}
    for _ in range(args.repeat):
        for scheme in runs:
            runs[scheme].append(measure(people, EncodingKeys.from_master(master, f"scheme{scheme}", scheme=scheme)))
    result: dict = {
        "commit": _commit(),
        "date": dt.date.today().isoformat(),
        "records": len(people),
        "load_average": os.getloadavg()[0],
        "schemes": {},
    }
    for scheme, measured in runs.items():
        summary = {
            key: {"median": statistics.median(m[key] for m in measured), "max": max(m[key] for m in measured)}
            for key in measured[0]
        }
        result["schemes"][str(scheme)] = summary
        print(
            f"scheme {scheme}: encode {summary['encode_us_per_record']['median']:.1f} µs/record, "
            f"load {summary['load_us_per_record']['median']:.1f} µs/record, "
            f"compare {summary['compare_ns_per_pair']['median']:.0f} ns/pair ({summary['pairs']['median']:.0f} pairs), "
            f"stored {summary['packed_bytes_per_record']['median']:.0f} B/record (as JSON: "
            f"{summary['json_bytes_per_record']['median']:.0f}); sealing at rest "
            f"{summary['seal_us_per_record']['median']:.1f} µs/record, opening {summary['open_us_per_record']['median']:.1f} "
            f"µs/record, sealed {summary['sealed_bytes_per_record']['median']:.0f} B/record (medians of {args.repeat})"
        )
    out = Path(args.out) if args.out else RESULTS / f"encoding-schemes-{result['date']}-{result['commit']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
