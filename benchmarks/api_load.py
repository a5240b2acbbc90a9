"""Load on the providers' HTTP API (issue 22): many bodies delivering small JSON batches at once.

Through the product's real path only: a home made by `kim-hub init`, `kim-hub sources add` and
`kim-hub tokens issue`, served by `kim-hub web` (uvicorn, loopback) in its own process, and the
bodies' software played by one thread per body with `requests`. Each body delivers batches of
``--batch`` case records (rows of a generated synthetic population, each delivery under record ids
of its own, so every batch is new content) for ``--seconds``, pausing ``--pause`` seconds between
its deliveries (0: back to back, a closed loop that measures saturation rather than a body's
experience). The receipt time of a delivery is from sending it to holding its receipt (a 202 is
polled until the receipt is there). Afterwards the database is counted: every record a 200 receipt
accepted is stored exactly once, every delivery has one ingest row, nothing else is there.

    .venv/bin/python benchmarks/api_load.py --database-url postgresql+psycopg://…/postgres
        [--bodies 20] [--batch 100] [--seconds 60] [--pause 1.0] [--persons 3000] [--seed 1]

The database named in the URL's server gets a fresh database of its own (dropped afterwards);
without --database-url the home's embedded SQLite is used. JSON result:
benchmarks/results/api-load-<bodies>x<batch>-<backend>-p<pause>.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from kim_hub.hub_db.models import IngestFile, SourceRecord
from kim_hub.pipeline.home import HubHome, default_config
from kim_hub.synth.generator import generate

RESULTS = Path(__file__).parent / "results"
KIM_HUB = Path(sys.executable).parent / "kim-hub"
CHARITIES = ("diakonie", "stadt")  # generated sources whose exports have the standard provider export's columns
LIST_FIELDS = ("consent_recipients", "consent_categories")
FIELDS = (
    *("family_name", "given_names", "birth_date", "sex", "nationality", "birth_place", "street", "house_number"),
    *("postcode", "rechtskreis", "residence_status", "case_status", "case_opened", "case_closed", "district"),
    *("consent_recipients", "updated_at"),
)


def record_pool(persons: int, seed: int, work: Path) -> list[dict[str, object]]:
    """Case records of a generated population (a charity's and the city's rows, with their
    spellings as generated: native date forms, country names) as JSON ``CaseRecord``s without
    their record ids: the content each delivery gives ids of its own."""
    generate(work / "population", persons, seed)
    pool: list[dict[str, object]] = []
    for source in CHARITIES:
        for path in sorted((work / "population").rglob(f"{source}*.csv")):
            raw = path.read_bytes()
            try:
                content = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                content = raw.decode("cp1252")  # a source of the generator writes its export in Windows-1252
            delimiter = ";" if ";" in content.partition("\n")[0] else ","
            for row in csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter):
                record: dict[str, object] = {}
                for name in FIELDS:
                    value = (row.get(name) or "").strip()
                    if value:
                        record[name] = value.split("|") if name in LIST_FIELDS else value
                record.setdefault("updated_at", "2026-11-20")
                pool.append(record)
    return pool


def cli(home: Path, *args: str) -> str:
    done = subprocess.run([str(KIM_HUB), *args, "--home", str(home)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kim-hub {args[0]} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return done.stdout


def make_home(home: Path, database_url: str, bodies: list[str], rate: int) -> dict[str, str]:
    """The home through the CLI: init, one source per body, a token each; ``[api]`` limits set
    for the load (an operator's setting: calls per token and minute)."""
    home.mkdir()
    HubHome(home).save_config(default_config(database_url))
    cli(home, "init")
    for body in bodies:
        cli(home, "sources", "add", body)
    config = HubHome(home).load_config()
    HubHome(home).save_config(config.model_copy(update={"api": config.api.model_copy(update={"requests_per_minute": rate})}))
    tokens = {}
    for body in bodies:
        printed = cli(home, "tokens", "issue", "--body", body, "--scope", "deliver,receipts", "--expires", "1d")
        tokens[body] = next(word for word in printed.split() if word.startswith("kimh_"))
    return tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """`kim-hub web` on a free loopback port, in its own process."""
    port = free_port()
    server = subprocess.Popen(
        [str(KIM_HUB), "web", "--home", str(home), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("kim-hub web did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class BodyLog:
    """What one body sent and got back."""

    seconds: list[float] = field(default_factory=list)  # receipt time per delivery
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: int = 0  # records the receipts counted as accepted
    sent_ids: set[str] = field(default_factory=set)
    polls: int = 0


def run_body(
    base: str, body: str, token: str, pool: list[dict[str, object]], batch: int, until: float, pause: float, log: BodyLog
) -> None:
    """One body's software: deliver, wait for the receipt, pause, again, until the time is up."""
    url = f"{base}/api/v1/sources/{body}/deliveries"
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        number = 0
        while time.monotonic() < until:
            start = (number * batch) % max(1, len(pool) - batch)
            records = [{**pool[start + i], "record_id": f"{body}-{number}-{i}"} for i in range(batch)]
            sent = time.perf_counter()
            answer = http.post(url, json={"records": records}, timeout=120)
            while answer.status_code == 202:  # a receipt to poll
                log.polls += 1
                time.sleep(0.05)
                answer = http.get(base + answer.json()["receipt_url"], timeout=120)
            log.seconds.append(time.perf_counter() - sent)
            log.statuses[answer.status_code] = log.statuses.get(answer.status_code, 0) + 1
            if answer.status_code == 200:
                log.accepted += int(answer.json()["accepted"])
                log.sent_ids.update(r["record_id"] for r in records)
            number += 1
            if pause:
                time.sleep(pause * (0.5 + secrets.randbelow(1000) / 1000))  # 0.5-1.5 × pause: bodies drift apart


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``server_url``, dropped afterwards."""
    name = f"kimhub_load_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def counted(database_url: str, bodies: list[str]) -> dict[str, dict[str, int]]:
    """Per body: records stored, distinct record ids stored, ingest rows."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            records = dict(connection.execute(select(SourceRecord.source, func.count()).group_by(SourceRecord.source)).all())
            distinct = dict(
                connection.execute(
                    select(SourceRecord.source, func.count(func.distinct(SourceRecord.record_id))).group_by(SourceRecord.source)
                ).all()
            )
            files = dict(connection.execute(select(IngestFile.source, func.count()).group_by(IngestFile.source)).all())
    finally:
        engine.dispose()
    return {b: {"records": records.get(b, 0), "distinct": distinct.get(b, 0), "ingests": files.get(b, 0)} for b in bodies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server's URL (a fresh database is made on it)")
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pause", type=float, default=1.0, help="mean seconds a body waits between deliveries")
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bodies = [f"traeger-{n:02d}" for n in range(1, args.bodies + 1)]
    with tempfile.TemporaryDirectory(prefix="kimhub-api-load-") as folder:
        work = Path(folder)
        pool = record_pool(args.persons, args.seed, work)
        database = own_database(args.database_url) if args.database_url else nullcontext("")
        with database as url:
            home = work / "home"
            tokens = make_home(home, url, bodies, rate=100_000)
            database_url = HubHome(home).database_url(HubHome(home).load_config())
            logs = {body: BodyLog() for body in bodies}
            load_before = os.getloadavg()
            with serving(home) as base:
                until = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(target=run_body, args=(base, b, tokens[b], pool, args.batch, until, args.pause, logs[b]))
                    for b in bodies
                ]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wall = time.perf_counter() - started
            stored = counted(database_url, bodies)
    seconds = [s for log in logs.values() for s in log.seconds]
    statuses: dict[str, int] = {}
    for log in logs.values():
        for status, n in log.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    lost_or_doubled = {
        b: {"sent": len(logs[b].sent_ids), "accepted": logs[b].accepted, **stored[b]}
        for b in bodies
        if not (len(logs[b].sent_ids) == logs[b].accepted == stored[b]["records"] == stored[b]["distinct"])
        or stored[b]["ingests"] != logs[b].statuses.get(200, 0)
    }
    result = {
        "date": dt.date.today().isoformat(),
        "backend": "postgresql" if args.database_url else "sqlite",
        "bodies": args.bodies,
        "batch": args.batch,
        "seconds": args.seconds,
        "pause": args.pause,
        "deliveries": len(seconds),
        "records_delivered": sum(log.accepted for log in logs.values()),
        "deliveries_per_second": round(len(seconds) / wall, 2),
        "receipt_seconds": {
            "median": round(statistics.median(seconds), 3),
            "p95": round(percentile(seconds, 0.95), 3),
            "max": round(max(seconds), 3),
        },
        "statuses": statuses,
        "polled_202": sum(log.polls for log in logs.values()),
        "lost_or_doubled": lost_or_doubled,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"api-load-{args.bodies}x{args.batch}-{result['backend']}-p{args.pause:g}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written: {out}", file=sys.stderr)
    errors = sum(n for status, n in statuses.items() if status != "200")
    return 0 if not errors and not lost_or_doubled else 1


if __name__ == "__main__":
    sys.exit(main())
