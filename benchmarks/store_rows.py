"""What writing a first run's rows costs SQLite: records with and without a trigger per row, links in cluster or record order.

    .venv/bin/python benchmarks/store_rows.py [--records 200000] [--links 1000000] [--repeat 3] [--out FILE]

Each trial makes a fresh home (`kim-hub init`: every migration, the hub's own engine and its
pragmas) in a temporary directory and times one transaction, as the ingest and the link run
write them:

* ``records``: rows shaped like a stored record (a 1.7 KB sealed encoding, two sources, record
  ids in file order) through ``hub_db.bulk_insert.insert_rows``, with the index mark written once
  (``hub_db.index_changes``), against the same with migration 0013's trigger per inserted row
  put back (what migration 0018 removed);
* ``links``: one link per record to persons drawn at random, in the order of the clusters (the
  records shuffled) against the order of the records (``hub_db.person_assignment._write_links``).

Prints the median seconds and µs per row of each; ``--out`` writes every trial as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kim_hub.hub_db.bulk_insert import DriverInsert, insert_rows
from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.index_changes import SQLITE_MARK, mark_inserted
from kim_hub.hub_db.models import Link, Person, SourceRecord, table_of
from kim_hub.pipeline.home import HubHome, default_config
from kim_hub.pipeline.setup import initialise

ROW_TRIGGER = f"CREATE TRIGGER index_changed_insert AFTER INSERT ON source_records BEGIN {SQLITE_MARK}; END"
NOW = dt.datetime.now(dt.UTC)


def fresh_sessions(work: Path):  # type: ignore[no-untyped-def]
    home = HubHome(Path(tempfile.mkdtemp(dir=work)) / "home")
    home.path.mkdir()
    home.save_config(default_config(""))
    config = initialise(home)
    return session_factory(make_engine(home.database_url(config)))


def record_row(source: str, number: int) -> dict:
    return {
        "source": source,
        "record_id": f"{source[:1].upper()}-{number:09d}",
        "case_data": {"events": [], "case_status": "active"},
        "encoding": "gcm1:" + secrets.token_urlsafe(1300),
        "key_id": "k1",
        "content_hash": secrets.token_hex(8),
        "file_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


def store_records(work: Path, count: int, row_trigger: bool) -> float:
    sessions = fresh_sessions(work)
    rows = [record_row(source, i) for source in ("abh", "jobcenter") for i in range(count // 2)]
    with sessions() as session, session.begin():
        if row_trigger:
            session.connection().exec_driver_sql(ROW_TRIGGER)
        started = time.perf_counter()
        for start in range(0, len(rows), 2000):  # the ingest's chunks (pipeline.encode_pool.CHUNK_ROWS)
            insert_rows(session, table_of(SourceRecord), rows[start : start + 2000])
            if not row_trigger:
                mark_inserted(session)
        return time.perf_counter() - started


def write_links(work: Path, count: int, record_order: bool) -> float:
    sessions = fresh_sessions(work)
    with sessions() as session, session.begin():
        insert_rows(session, table_of(SourceRecord), (record_row("abh", i) for i in range(count)))
        insert_rows(session, table_of(Person), ({"pseudonym": f"P-{i:012X}", "created_at": NOW} for i in range(count // 2)))
    draw = random.Random(1)
    person = [draw.randrange(1, count // 2 + 1) for _ in range(count)]
    order = list(range(count))
    if not record_order:
        draw.shuffle(order)
    with sessions() as session, session.begin():
        started = time.perf_counter()
        links = DriverInsert(session, table_of(Link)).prepare(["record_id", "person_id", "status", "score", "updated_at"])
        for i in order:
            links.append_values([i + 1, person[i], "auto", 0.9, NOW])
        links.flush()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    trials: dict[str, Callable[[Path], float]] = {
        "records, trigger per row (0013)": lambda work: store_records(work, args.records, row_trigger=True),
        "records, one mark per chunk (0018)": lambda work: store_records(work, args.records, row_trigger=False),
        "links, cluster order": lambda work: write_links(work, args.links, record_order=False),
        "links, record order": lambda work: write_links(work, args.links, record_order=True),
    }
    runs: dict[str, list[float]] = {name: [] for name in trials}
    with tempfile.TemporaryDirectory(prefix="kimhub-store-rows-") as scratch:
        for _ in range(args.repeat):  # interleaved, so a slow minute of the machine hits every variant
            for name, trial in trials.items():
                runs[name].append(trial(Path(scratch)))
    for name, seconds in runs.items():
        rows = args.records if name.startswith("records") else args.links
        median = statistics.median(seconds)
        print(f"{name:38s} {median:6.2f} s  {1e6 * median / rows:5.1f} µs/row  (runs: {', '.join(f'{s:.2f}' for s in seconds)})")
    if args.out:
        args.out.write_text(json.dumps({"records": args.records, "links": args.links, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
