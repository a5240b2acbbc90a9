"""Helpers for tests that drive the real `kim-hub` CLI in subprocesses against one home."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kim_hub.flows.prefect_setup import API_URL_OVERRIDE
from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.dump import canonical_dump
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source
from tests.conftest import kim_hub_command

PREFECT_STARTUP_SECONDS = 180


def start_cli(
    home: Path, *args: str, capture: bool = True, api: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`kim-hub ARGS --home HOME` as a child process (not waited for).

    ``api``: a running Prefect server's API URL (see ``prefect_server``), so the process skips
    starting Prefect's temporary server; ``env``: extra environment (e.g. a crash point).
    """
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    environment = {**os.environ, **(env or {})}
    if api:
        environment[API_URL_OVERRIDE] = api
    return subprocess.Popen(
        [*kim_hub_command(), *args, "--home", str(home)], stdout=output, stderr=subprocess.PIPE, text=True, env=environment
    )


def create_home(path: Path, database_url: str = "", api: str | None = None) -> Path:
    """`kim-hub init` of a new home, on SQLite or on the given database."""
    if database_url:
        home = HubHome(path)
        home.path.mkdir(parents=True)
        home.save_config(HubConfig(database_url=database_url, sources={n: default_source(n) for n in DEFAULT_SOURCES}))
    init = start_cli(path, "init", api=api)
    _out, err = init.communicate(timeout=120)
    assert init.returncode == 0, err
    return path


def use_keys_of(home: Path, other: Path) -> None:
    """Give ``home`` the key of ``other``: same key, same encodings, comparable dumps."""
    shutil.rmtree(home / "keys")
    shutil.copytree(other / "keys", home / "keys")


def deliver(drops: Path, home: Path, parts: int = 1) -> None:
    """Copy generated drop files into the home's inboxes as finished (settled) deliveries.

    ``parts``: split each file into that many files (same header, rows in turn), so that several
    processes have files to share and a crash can fall between the files of one source.
    """
    past = time.time() - 60
    for path in sorted((drops / "inbox").rglob("*.csv")):
        header, *rows = path.read_bytes().splitlines(keepends=True)
        for part in range(parts):
            name = path.name if parts == 1 else f"{path.stem}_{part + 1:02d}{path.suffix}"
            target = home / "inbox" / path.parent.name / name
            target.write_bytes(header + b"".join(rows[part::parts]))
            os.utime(target, (past, past))


def dump(home: Path) -> dict:
    """The canonical dump of a home's database (SQLite or whatever hub.toml names)."""
    hub = HubHome(home)
    engine = make_engine(hub.database_url(hub.load_config()))
    with session_factory(engine)() as session:
        result = canonical_dump(session)
    engine.dispose()
    return result


# Parts of the dump that tell how many linking and push runs it took, not what the hub holds:
# two processes may link the same deliveries in two steps (each step's review items and events,
# persons merged on the way) and push an interim summary between them. (Which records each step
# found imported may also decide a borderline pair: see test_concurrent_ingest.LINKED_IN_BATCHES.)
RUN_HISTORY = ("link_events", "review_items", "model_versions", "person_rows", "transfers", "audit")


def settled(state: dict) -> dict:
    """A dump without RUN_HISTORY: what any order of runs over the same deliveries must agree on."""
    return {part: value for part, value in state.items() if part not in RUN_HISTORY}


def outbox(home: Path) -> dict[str, object]:
    """Every receipt and summary the home sent, by path; JSON without its send/receive time.

    Hidden files (an atomic write's temporary file) are not deliveries and are left out. The
    summaries CSVs (one per push) count as what a recipient importing them in order ends with:
    the last row per record and kind — a push that ran between an ingest's files may have sent an
    interim row that a later one superseded, and that is a delivery, not a duplicate."""
    found: dict[str, object] = {}
    latest_rows: dict[str, dict[tuple[str, str], dict]] = {}
    for path in sorted(
        (home / "outbox").rglob("*"), key=lambda p: (p.stat().st_mtime_ns, str(p)) if p.is_file() else (0, str(p))
    ):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = str(path.relative_to(home / "outbox"))
        if path.suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            found[name] = {k: v for k, v in document.items() if k not in ("sent_at", "received_at")}
        elif path.name.startswith("summaries-") and path.suffix == ".csv":
            rows = latest_rows.setdefault(str(path.parent.relative_to(home / "outbox")), {})
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
                rows[(row["record_id"], row["kind"])] = row
        else:
            found[name] = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if "received" not in line)
    for folder, rows in latest_rows.items():
        found[f"{folder}/summaries-*.csv"] = sorted(tuple(sorted(row.items())) for row in rows.values())
    return dict(sorted(found.items()))


def files_in(home: Path, folder: str) -> list[str]:
    """Delivered files in one of the home's file folders (inbox, processing, archive, failed)."""
    return sorted(str(p.relative_to(home / folder)) for p in (home / folder).rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def prefect_server(workdir: Path) -> Iterator[str]:
    """One Prefect API server for many CLI runs (each would otherwise start its own, ~8 s).

    Its state lives in ``workdir`` (own PREFECT_HOME); yields the API URL for
    KIM_HUB_PREFECT_API_URL once /api/health answers, and stops the server afterwards.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        **os.environ,
        "PREFECT_HOME": str(workdir),
        "PREFECT_PROFILES_PATH": str(workdir / "profiles.toml"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
    environment.pop("PREFECT_API_URL", None)
    log = (workdir / "server.log").open("wb")
    prefect = Path(sys.executable).parent / "prefect"
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + PREFECT_STARTUP_SECONDS
        while not _healthy(api):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Prefect server did not start: {(workdir / 'server.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.2)
        yield api
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
