"""What the reliability tests compare: homes driven by the real `kim-hub` CLI in child processes.

Starting the CLI and creating homes is tests.support's (``start_cli``, ``init_home``: every home
holds the fixed test key, so two homes' encodings and dumps compare); the one Prefect server of a
session is ``tests.support.prefect``. Here: deliveries split into parts, and the canonical views of
a home (dump, outbox, file folders) that two runs must agree on.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.dump import canonical_dump
from kim_hub.pipeline.home import HubHome
from tests.support import settle


def deliver(drops: Path, home: Path, parts: int = 1) -> None:
    """Copy generated drop files into the home's inboxes as finished (settled) deliveries.

    ``parts``: split each file into that many files (same header, rows in turn), so that several
    processes have files to share and a crash can fall between the files of one source.
    """
    for path in sorted((drops / "inbox").rglob("*.csv")):
        header, *rows = path.read_bytes().splitlines(keepends=True)
        for part in range(parts):
            name = path.name if parts == 1 else f"{path.stem}_{part + 1:02d}{path.suffix}"
            target = home / "inbox" / path.parent.name / name
            target.write_bytes(header + b"".join(rows[part::parts]))
            settle(target)


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
