"""What one row of a delivery costs, step by step, in one process (a component benchmark).

    .venv/bin/python benchmarks/row_steps.py [--persons 30000] [--source abh --source jobcenter] [--repeat 5] [--out FILE]
    PYTHONPATH=/tmp/oldpkg /work/main/.venv/bin/python benchmarks/row_steps.py …   # another checkout

A generated population (``kim_hub.synth.generate``, seed 1) is delivered as the sources' own
files; each chosen source's file is read by its configured connector and mapped by its mapping
under the source's settings, as ``pipeline.ingest`` does (``file_readers``, ``source_mapper``).
Then each step of the ingest's row path runs over the whole file, ``--repeat`` times, and the
median is given in µs a row: reading, mapping, the summary's dump, its canonical text and keyed
content hash, the case JSON, encoding the identity and its parts (names, birth date, street,
the AZR number's digit neighbours …), packing, sealing, the whole of ``pseudonymise``, a worker's
chunks of 2,000 rows as ``pipeline.encode_pool.encode_chunk`` maps and pseudonymises them, and the
pickling a chunk's rows and records cost on their way to and from an encode worker. Every row
is mapped and encoded once before the timed passes, which fills the caches a long ingest has
warm (tokens, name parts, code spellings): the mapping and encoding are those of a warm worker;
the cyclic garbage collector is paused while a step runs, as in the workers
(``runtime.gc_pause``). Whole ingests are ``ingest_phases.py``'s, ``relink.py``'s and
``scale.py``'s; this says which step a change moved, and what a host's hashing or allocation
costs (one keyed token took 0.5 µs on the hosts of earlier stops, 1.9 µs on that of 2026-12-07).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # `tests.support`, as pytest finds it from the repository root


def main() -> None:
    from measured_checkout import measured_checkout  # beside this script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--source", action="append", help="a source to measure (default: abh and jobcenter)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="result JSON")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kim-hub-row-steps-") as work:
        drops, config, keys = _prepare(Path(work), args.persons)
        for source in args.source or ["abh", "jobcenter"]:
            steps, rows = measure(drops, config, keys, source, args.repeat)
            results[source] = {"rows": rows, "us_per_row": steps}
            print(f"{source}: {rows} rows, µs a row (median of {args.repeat})")
            for step, value in steps.items():
                print(f"  {step:34s} {value:7.1f}")
    if args.out:
        document = {"persons": args.persons, "repeat": args.repeat, "commit": measured_checkout()[1], "sources": results}
        args.out.write_text(json.dumps(document, indent=2) + "\n")


def _prepare(work: Path, persons: int) -> tuple[Path, Any, Any]:
    """The drops of a generated population and a home's configuration and keys (the fixed test key)."""
    from kim_hub.hub_db.keystore import load_keys
    from kim_hub.pipeline.home import HubHome
    from kim_hub.synth import generate
    from tests.support.cli import init_home

    generate(work / "drops", persons, 1)
    home = HubHome(init_home(work / "home"))
    config = home.load_config()
    return work / "drops", config, load_keys(home.key_dir(config))


def measure(drops: Path, config: Any, keys: Any, source: str, repeat: int) -> tuple[dict[str, float], int]:
    """Median µs a row of each step over ``source``'s file (caches warmed by the first pass)."""
    import gc

    from kim_hub.connectors.registry import load_connector
    from kim_hub.linkage import encode
    from kim_hub.linkage.encoding_bytes import pack
    from kim_hub.linkage.pseudonymise import pseudonymise, stored_record_id
    from kim_hub.pipeline.encode_pool import encode_chunk
    from kim_hub.pipeline.ingest import file_readers, reader_for, source_mapper
    from kim_hub.runtime.gc_pause import cyclic_gc_paused

    canonical_json = _canonical_text()
    settings = config.sources[source]
    path = next(p for p in sorted((drops / "inbox" / source).iterdir()) if p.is_file())
    reader = reader_for(path, file_readers([load_connector(name) for name in settings.connectors]))
    if reader is None:
        raise SystemExit(f"no connector of {source} reads {path.name}")
    mapper = source_mapper(reader.row_format, settings)
    rows = list(reader.read_file(path).rows)
    summaries = [m for m in (mapper(source, row) for row in rows) if not isinstance(m, list)]
    identities = [s.identity for s in summaries]
    dumps = [s.model_dump(mode="json") for s in summaries]
    authoritative = settings.azr_authoritative
    encodings = [encode.encode_identity(i, keys, authoritative) for i in identities]
    packed = [pack(e) for e in encodings]
    chunks = [rows[start : start + 2000] for start in range(0, len(rows), 2000)]
    records = [pseudonymise(s, keys, authoritative) for s in summaries]
    record_chunks = [records[start : start + 2000] for start in range(0, len(records), 2000)]
    steps: dict[str, Callable[[], object]] = {
        "read (connector)": lambda: list(reader.read_file(path).rows),
        "map (mapping, contract, policy)": lambda: [mapper(source, row) for row in rows],
        "summary dump": lambda: [s.model_dump(mode="json") for s in summaries],
        "canonical text": lambda: [canonical_json(d) for d in dumps],
        "content hash (text + keyed token)": lambda: [keys.unique_token("content", canonical_json(d)) for d in dumps],
        "case JSON": lambda: [json.dumps(d["case"]) for d in dumps],
        "encode identity": lambda: [encode.encode_identity(i, keys, authoritative) for i in identities],
        "  names": lambda: [[encode._encode_name(n, keys) for n in (i.name, *i.variant_names)] for i in identities],
        "  birth date": lambda: [encode._encode_date(i.birth_date, keys) for i in identities],
        "  street and street alike": lambda: [
            (encode._optional_token(keys, "address", encode._street_key(i.street)), encode._street_alike_key(i.street))
            for i in identities
        ],
        "  AZR digit neighbours": lambda: [encode._digit_neighbours(i.azr_number, keys) for i in identities],
        "pack": lambda: [pack(e) for e in encodings],
        "seal": lambda: [keys.seal_encoding(p, source, r.content_hash) for p, r in zip(packed, records, strict=True)],
        "stored record id": lambda: [stored_record_id(s.case.record_id, keys, source) for s in summaries],
        "pseudonymise (all of the above from the summary)": lambda: [pseudonymise(s, keys, authoritative) for s in summaries],
        "a worker's chunks (encode_pool.encode_chunk)": lambda: [
            encode_chunk(source, chunk, mapper, keys, authoritative) for chunk in chunks
        ],
        "rows to a worker (pickle + unpickle)": lambda: [pickle.loads(pickle.dumps(c, pickle.HIGHEST_PROTOCOL)) for c in chunks],
        "records back (pickle + unpickle)": lambda: [
            pickle.loads(pickle.dumps(c, pickle.HIGHEST_PROTOCOL)) for c in record_chunks
        ],
    }
    timings: dict[str, list[float]] = {step: [] for step in steps}
    for _ in range(repeat):
        for step, run in steps.items():
            gc.collect()
            with cyclic_gc_paused():  # as the encode workers run (pipeline.encode_pool)
                started = time.perf_counter()
                run()
                timings[step].append(time.perf_counter() - started)
    return {step: round(statistics.median(seconds) / len(rows) * 1e6, 2) for step, seconds in timings.items()}, len(rows)


def _canonical_text() -> Callable[[Any], str]:
    """The writer of the content hash's canonical text; json's in a checkout from before
    ``linkage.canonical_json`` (what its ``pseudonymise`` wrote the text with)."""
    try:
        from kim_hub.linkage.canonical_json import canonical_json
    except ImportError:
        return json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False).encode
    return canonical_json


if __name__ == "__main__":
    main()
