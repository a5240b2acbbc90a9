"""Web pages benchmark: the reviewer's queue, pair page and decision over HTTP on a large home.

    .venv/bin/python benchmarks/web_pages.py [--persons 100000] [--seed 1] [--database-url URL]
                                             [--review-probability 0.03] [--requests 200] [--decisions N]
                                             [--home DIR] [--keep] [--push]

Builds a home the way ``scale.py`` does (a generated population, every source ingested from
empty through the hub's data path, one link run), with the review band of ``[linkage]`` widened
(``review_probability``) so that the link run itself queues about 10,000 uncertain pairs. Then
serves the web application for real (``python -m kim_hub.cli web``, uvicorn on 127.0.0.1, in its
own process), signs in a local reviewer through the sign-in form, and times with ``requests``:
queue pages (with and without filters), pair pages over different items, and decision
round-trips (POST decide with the form token and a reason, following the redirect to the
page that comes next). ``--push`` sends the summaries first, so that decisions touching a person
whose summaries went out wait for a second reviewer and the pair page shows what each choice
would send (four eyes). Medians and p95 per kind go to stdout and to
``benchmarks/results/web-pages-<persons>-<backend>.json``.

``--home DIR`` reuses (or, if it is not a home yet, builds and keeps) a home; every run decides
``--requests`` items, so the open items shrink from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import requests
from sqlalchemy import func, select

from kim_hub.hub_db.database import make_engine
from kim_hub.hub_db.models import ReviewItem
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome, default_config
from kim_hub.pipeline.review import review_items
from kim_hub.pipeline.web_users import add_user, list_users

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import deliver_all, run_cycle  # benchmarks/ is no package

from kim_hub.pipeline.setup import initialise
from kim_hub.synth import generate

ROOT = Path(__file__).resolve().parent.parent
REVIEWER, PASSWORD = "bench", "korrekt-Pferd-Batterie-bench"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
ITEM_LINK = re.compile(r'href="/review/(\d+)"')
REASONS = ("fields_agree", "fields_differ", "source_confirmed", "case_file_checked", "family_member")


def build(home: HubHome, persons: int, seed: int, database_url: str, review_probability: float) -> dict[str, float]:
    """A home from empty through the hub's data path: generate, deliver, ingest, link."""
    drops = home.path.parent / "drops"
    started = time.perf_counter()
    generate(drops, persons, seed)
    generated = time.perf_counter()
    home.path.mkdir(parents=True)
    config = default_config(database_url)
    config.linkage.review_probability = review_probability
    home.save_config(config)
    config = initialise(home)
    deliver_all(drops, home)
    cycle = run_cycle(home, config, None)
    shutil.rmtree(drops)
    return {
        "generate_s": round(generated - started, 1),
        "ingest_s": cycle["ingest_s"],
        "link_s": cycle["link_s"],
        "records": cycle["records"],
    }


def push(home: HubHome) -> dict[str, float]:
    """Every due summary sent (so four eyes apply to decisions touching those persons)."""
    from kim_hub.pipeline.push import push_all

    config = home.load_config()
    started = time.perf_counter()
    with open_sessions(home, config) as sessions:
        outcome = push_all(home, config, sessions)
    return {"push_s": round(time.perf_counter() - started, 1), "pushed": str(outcome)[:200]}  # type: ignore[dict-item]


def open_items(home: HubHome) -> list[int]:
    """Ids of the open items the queue shows a reviewer granted every body, through the hub's own
    listing (``pipeline.review.review_items``: a read in the audit log, as the user running this)."""
    ids = [item.id for item in review_items(home, "open")]
    config = home.load_config()
    engine = make_engine(home.database_url(config))
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(ReviewItem)).scalar_one()
    engine.dispose()
    print(f"review items: {len(ids)} open and shown, {total} in all", file=sys.stderr)
    return ids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(home: HubHome, port: int) -> subprocess.Popen[bytes]:
    """`kim-hub web` in a process of its own; returns once it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "kim_hub.cli", "web", "--home", str(home.path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/sign-in", timeout=5)
            return server
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the web application did not start") from None
            time.sleep(0.2)


def sign_in(base: str) -> requests.Session:
    client = requests.Session()
    token = TOKEN.search(client.get(f"{base}/sign-in").text)
    assert token is not None
    answer = client.post(
        f"{base}/sign-in", data={"user": REVIEWER, "password": PASSWORD, "csrf": token.group(1)}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.status_code
    return client


def timed(
    kind: str, call: Callable[[], requests.Response], timings: dict[str, list[float]], statuses: dict[str, dict[int, int]]
) -> requests.Response:
    started = time.perf_counter()
    answer = call()
    timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    counts = statuses.setdefault(kind, {})
    counts[answer.status_code] = counts.get(answer.status_code, 0) + 1
    return answer


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, round(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def measure(
    base: str, client: requests.Session, items: list[int], count: int, decisions: int, seed: int, sources: list[str]
) -> tuple[dict, dict]:
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    statuses: dict[str, dict[int, int]] = {}
    pairs = [f"{a}~{b}" for i, a in enumerate(sorted(sources)) for b in sorted(sources)[i:]]
    filters = [
        {},
        {"min": "0.5"},
        {"assigned": "none"},
        {"older": "1"},
        *({"pair": pair} for pair in pairs),
    ]
    for i in range(count):  # the queue: every other load plain, the rest with one of the filters
        params = {} if i % 2 == 0 else filters[1 + (i // 2) % (len(filters) - 1)]
        kind = "queue" if not params else "queue_filtered"
        timed(kind, partial(client.get, f"{base}/review", params=params, allow_redirects=False), timings, statuses)
    shuffled = rng.sample(items, len(items))
    viewed, decided = shuffled[:count], shuffled[count : count + decisions]
    for item in viewed:
        timed("pair", partial(client.get, f"{base}/review/{item}", allow_redirects=False), timings, statuses)
    for n, item in enumerate(decided):
        page = client.get(f"{base}/review/{item}", allow_redirects=False)  # the reviewer looks first (not timed)
        token = TOKEN.search(page.text)
        if page.status_code != 200 or token is None:
            statuses.setdefault("decide_skipped", {}).setdefault(page.status_code, 0)
            statuses["decide_skipped"][page.status_code] += 1
            continue
        form = {"csrf": token.group(1), "decision": ("same", "different")[n % 2], "reason": REASONS[n % len(REASONS)]}
        decide = partial(client.post, f"{base}/review/{item}/decide", data=form, allow_redirects=True)
        timed("decide", decide, timings, statuses)
    return {kind: summary(ms) for kind, ms in timings.items()}, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: SQLite in the home")
    parser.add_argument(
        "--review-probability", type=float, default=0.03, help="[linkage] review_probability of the built home (default 0.03)"
    )
    parser.add_argument("--requests", type=int, default=200, help="loads per kind (default 200)")
    parser.add_argument("--decisions", type=int, help="decision round-trips (default: --requests)")
    parser.add_argument("--home", type=Path, help="reuse this home (built here and kept when it is none yet)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--push", action="store_true", help="send the summaries first (four eyes on those persons)")
    parser.add_argument("--label", default="", help="added to the result file's name")
    args = parser.parse_args()

    work = args.home.parent if args.home else Path(tempfile.mkdtemp(prefix="kimhub-web-"))
    home = HubHome(args.home or work / "home")
    built: dict[str, object] = {}
    if not home.exists():
        built = build(home, args.persons, args.seed, args.database_url, args.review_probability)
        print(f"built: {built}", file=sys.stderr)
        if args.push:
            built.update(push(home))
    if REVIEWER not in {account.name for account in list_users(home)}:
        add_user(home, REVIEWER, "reviewer", PASSWORD)
    items = open_items(home)
    config = home.load_config()
    load_before = os.getloadavg()
    port = free_port()
    server = serve(home, port)
    base = f"http://127.0.0.1:{port}"
    try:
        client = sign_in(base)
        started = time.perf_counter()
        decisions = args.requests if args.decisions is None else args.decisions
        results, statuses = measure(base, client, items, args.requests, decisions, args.seed, list(config.sources))
        measured_s = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    url = home.database_url(config)
    result = {
        "persons": args.persons,
        "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
        "review_probability": config.linkage.review_probability,
        "open_items_at_start": len(items),
        "built": built,
        "pages": results,
        "statuses": {kind: {str(code): n for code, n in counts.items()} for kind, counts in statuses.items()},
        "measured_s": round(measured_s, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "home": str(home.path) if args.home or args.keep else None,
    }
    print(json.dumps(result, indent=2))
    label = f"-{args.label}" if args.label else ""
    out = ROOT / "benchmarks" / "results" / f"web-pages-{args.persons}-{result['backend']}{label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not (args.home or args.keep):
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
