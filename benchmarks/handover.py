"""What a big file's rows and records cost on their way between the storing process and the encode workers.

    .venv/bin/python benchmarks/handover.py [--persons 20000] [--source abh] [--repeat 5] [--small-heap] [--out FILE]

A delivery of 5,000 rows or more is encoded in worker processes (``pipeline.encode_pool``): the
storing process pickles the rows to them, they pickle the records back, and the storing process
unpickles the records and converts each one's case data for its JSON column. The storing process
shares the two cores with the workers, so its time per record counts twice. This script makes one
source's generated delivery (``kim-hub generate``'s generator, seed 1), maps and pseudonymises its
rows in this process, and times, per row, medians of ``--repeat`` passes with the cyclic garbage
collector on, as it is where these steps run (the workers pause it only while they encode), and
with the whole file's rows and records held, as a worker holds its caches of tokens: each
collection then has a big heap to walk, and a dict per record unpickled sets collections off
(``--small-heap``: only the chunk held):

* ``rows dumps`` / ``rows loads``: a chunk of rows (2,000, ``encode_pool.CHUNK_ROWS``) pickled as
  the pool pickles it, and unpickled;
* ``records dumps`` / ``records loads``: the chunk's records the same way;
* ``case data to column``: the case data of each record in the form the storing process hands to
  the driver, through the column's own conversion (``hub_db.bulk_insert.DriverInsert`` on
  SQLite; text that is already the column's form costs nothing here).

Run it from another tree (``PYTHONPATH`` at a worktree's package) to compare two versions side
by side; ``--out`` writes the medians, the commit and every pass as JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite

from kim_hub.connectors.registry import load_connector
from kim_hub.hub_db.models import SourceRecord, table_of
from kim_hub.pipeline import encode_pool
from kim_hub.pipeline.home import HubHome, default_config
from kim_hub.pipeline.ingest import file_readers, reader_for, source_mapper
from kim_hub.pipeline.setup import encoding_keys, initialise
from kim_hub.pipeline.vocabulary import vocabulary
from kim_hub.synth import generate


def per_row(step: Callable[[], Any], rows: int, repeat: int) -> tuple[float, list[float]]:
    """Median µs per row of ``step`` over ``repeat`` passes (and every pass)."""
    passes = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        passes.append((time.perf_counter() - start) / rows * 1e6)
    return statistics.median(passes), passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--source", default="abh")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--small-heap", action="store_true", help="hold only the chunk measured")
    parser.add_argument("--out")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-handover-"))
    generate(work / "drops", args.persons, 1)
    home = HubHome(work / "home")
    home.path.mkdir()
    home.save_config(default_config(""))
    config = initialise(home)
    keys = encoding_keys(home, config)
    settings = config.sources[args.source]
    path = next((work / "drops" / "inbox" / args.source).glob("*"))
    reader = reader_for(path, file_readers([load_connector(name) for name in settings.connectors]))
    assert reader is not None, "no connector of the source reads its generated file"
    mapper = source_mapper(reader.row_format, settings, vocabulary(home, config))
    every_row = list(reader.stream_file(path).all_rows())
    rows = every_row[: encode_pool.CHUNK_ROWS]
    records = [r for r in encode_pool.encode_chunk(args.source, rows, mapper, keys, False) if not isinstance(r, list)]
    held = [] if args.small_heap else encode_pool.encode_chunk(args.source, every_row, mapper, keys, False)
    dialect = sqlite.dialect()
    convert = table_of(SourceRecord).c["case_data"].type.dialect_impl(dialect).bind_processor(dialect)
    case_form = [getattr(r, "case_json", None) or r.case_data for r in records]  # the text, or the dict before it
    text_form = all(isinstance(value, str) for value in case_form)  # DriverInsert hands text to SQLite as it is
    rows_blob, records_blob = pickle.dumps(rows, protocol=5), pickle.dumps(records, protocol=5)
    steps: dict[str, Callable[[], Any]] = {
        "rows dumps": lambda: pickle.dumps(rows, protocol=5),
        "rows loads": lambda: pickle.loads(rows_blob),
        "records dumps": lambda: pickle.dumps(records, protocol=5),
        "records loads": lambda: pickle.loads(records_blob),
        "case data to column": (lambda: None) if text_form else (lambda: [convert(value) for value in case_form]),
    }
    gc.collect()
    results = {name: per_row(step, len(rows), args.repeat) for name, step in steps.items()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    print(
        f"{args.source}: {len(rows)} rows, {len(records)} records ({len(records_blob) // max(len(records), 1)} bytes pickled each), commit {commit}"
    )
    for name, (median, _passes) in results.items():
        print(f"  {name:22s} {median:6.2f} µs a row")
    print(
        f"  {'storing process':22s} {sum(results[n][0] for n in ('rows dumps', 'records loads', 'case data to column')):6.2f} µs a row"
    )
    if args.out:
        out = {
            "persons": args.persons,
            "source": args.source,
            "rows": len(rows),
            "held": len(held),
            "commit": commit,
            "results": results,
        }
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
