"""Whether a sync has anything to do, found out before it does anything: the no-op sync made cheap.

A sync that finds nothing new used to pull every source, purge every source's copies, link, push
and collect the report's facts, only to find each time what the last run found. What those steps
act on is known cheaply:

* a source's work lies in its folders: a delivery in its inbox, a crashed run's leftover in
  processing/, copies past their periods (``pipeline.copies.copies_due``, the same rule the purge
  applies, so a deletion deadline is never passed for want of a run), a folder to be made; a
  source with an API connector always has work (only a pull can tell what is new);
* linking, push and report act on the database, the configuration and the date: the database's
  marks (``hub_db.sync_marks``), hub.toml, the district list it names, the key folder, the hub's
  ``KIM_HUB_*`` environment, the installed version, today's date (a consent valid until
  yesterday stops a summary today; ``pipeline.push``) and the UTC day (the report is made at least
  once a day; ``reporting.inputs``) make one digest, the *state*.

A sync ends after its first task when no source has work and the state is the one a complete
earlier sync left behind as *quiet* (``note_quiet``): every step ran, none failed, and the state
at its end was the state at its start, so that sync found nothing to do and nothing was written
in between. The quiet mark is the file ``var/sync-quiet.json`` (digests and source names only);
without it, or when the configuration changed since, every source runs. So the first sync after
a change (a delivery, a decision, a new day) is a complete one, and so is the one after it, which
confirms that nothing is left; from then on a sync with nothing new is one short task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.hub_db.erasure_ledger import ErasureLedger
from kim_hub.hub_db.sync_marks import sqlite_state
from kim_hub.pipeline.copies import copies_due
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.home_access import body_group, source_folders
from kim_hub.pipeline.ledger_state import sqlite_file
from kim_hub.pipeline.private_files import replacing
from kim_hub.pipeline.vocabulary import district_list_path

QUIET_FILE = "sync-quiet.json"
ENVIRONMENT_PREFIX = "KIM_HUB_"


@dataclass(frozen=True)
class SyncWork:
    """What a sync found to do before doing it.

    ``sources``: the sources whose ingest step must run (in the order asked); ``settled``: the
    state is the one a quiet sync left (linking, push and report would find nothing);
    ``state``: the state's digest now, handed to ``note_quiet`` at the end of the run;
    ``configuration``: the digest of the configuration part alone."""

    sources: tuple[str, ...]
    settled: bool
    state: str
    configuration: str

    @property
    def nothing(self) -> bool:
        """Nothing to do at all: the sync may end here."""
        return self.settled and not self.sources


def look_for_work(home: HubHome, config: HubConfig, requested: Sequence[str] | None = None, full: bool = False) -> SyncWork:
    """What a sync of ``requested`` (None: every source) has to do; ``full``: everything, always."""
    names = list(requested or config.sources)
    configuration = configuration_digest(home, config)
    state = current_state(home, config, configuration)
    quiet = _read_quiet(home)
    known = quiet is not None and quiet.get("configuration") == configuration and not full
    if not known or quiet is None:
        return SyncWork(tuple(names), False, state, configuration)
    listed = quiet.get("pulling")
    pulling = set(listed) if isinstance(listed, list) else set()
    busy = tuple(name for name in names if name in pulling or source_has_work(home, config, name))
    return SyncWork(busy, quiet.get("state") == state, state, configuration)


def source_has_work(home: HubHome, config: HubConfig, source: str) -> bool:
    """Anything for this source's ingest step without asking an API: a delivery or a leftover,
    copies past their periods, or a folder of the source missing (the step makes it)."""
    if DropFolder.under(home.path, source).has_deliveries():
        return True
    settings = config.sources[source]
    if copies_due(home, source, settings).any:
        return True
    return any(not folder.path.is_dir() for folder in source_folders(home, source, body_group(source, settings)))


def note_quiet(home: HubHome, config: HubConfig, work: SyncWork, report: Mapping[str, Any] | None = None) -> bool:
    """After a complete sync without failures: if the state is still the one it started from
    (nothing was written by the run, nor by anyone else meanwhile), note it as quiet, with where
    the run's report is and when it was made (``report``: the report step's outcome), and return
    True; otherwise remove any older note (the next sync runs every step) and return False."""
    state = current_state(home, config, work.configuration)
    path = home.var / QUIET_FILE
    if state != work.state or report is None:
        forget_quiet(home)
        return False
    note = {
        "state": state,
        "configuration": work.configuration,
        "pulling": pulling_sources(config),
        "report": {"written": False, "page": str(report["page"]), "generated_at": report["generated_at"]},
    }
    with replacing(path, "the sync's quiet mark") as handle:
        handle.write(json.dumps(note) + "\n")
    return True


def quiet_report(home: HubHome) -> dict[str, Any] | None:
    """The report as the quiet sync left it (not rewritten since): where its page is, when it was made."""
    note = _read_quiet(home)
    report = note.get("report") if note is not None else None
    return dict(report) if isinstance(report, dict) else None


def nothing_new_summary(home: HubHome) -> dict[str, Any]:
    """The run summary of a sync that found nothing to do: no source pulled, no step run; the
    report as the quiet sync before left it (``flows.sync``, and ``flows.nothing_to_do`` where
    the run is answered before Prefect starts)."""
    return {
        "sources": {},
        "linking": None,
        "push": None,
        "records_rejected": 0,
        "files_rejected": 0,
        "files_failed": 0,
        "failed": {},
        "nothing_new": True,
        "report": quiet_report(home),
    }


def forget_quiet(home: HubHome) -> None:
    """No quiet mark: the next sync runs every step (after a failed step, or when asked)."""
    (home.var / QUIET_FILE).unlink(missing_ok=True)


def pulling_sources(config: HubConfig) -> list[str]:
    """The sources with an API connector (only a pull can tell whether they have something new)."""
    from kim_hub.connectors.registry import is_pull_connector, load_connector

    return sorted(
        name
        for name, settings in config.sources.items()
        if any(is_pull_connector(load_connector(connector)) for connector in settings.connectors)
    )


def current_state(home: HubHome, config: HubConfig, configuration: str) -> str:
    """The state's digest: the database's marks (``hub_db.sync_marks``), the erasure ledger's last
    sequence (a database behind it is never settled: the steps' opening of it applies what is
    missing), the configuration's digest and the two dates."""
    ledger = ErasureLedger(home.erasure_ledger(config), _no_key).last_sequence()
    return _digest([database_marks(home, config), str(ledger), configuration, *state_dates()])


def database_marks(home: HubHome, config: HubConfig) -> str:
    """The database's marks: on a SQLite file read with the standard library's driver, else (or
    when that cannot read them) through the database layer as every step opens it."""
    path = sqlite_file(home.database_url(config))
    marks = sqlite_state(path) if path is not None else None
    if marks is not None:
        return marks
    from kim_hub.hub_db.sync_marks import database_state
    from kim_hub.pipeline.database import open_sessions

    with open_sessions(home, config) as sessions, sessions() as session:
        return database_state(session)


def _no_key() -> bytes:
    raise RuntimeError("reading the ledger's last sequence needs no key")


def state_dates() -> tuple[str, str]:
    """Today's date, as the push's consent rules take it (``pipeline.push.consent_policy``), and
    the UTC day the report is made for (``pipeline.reports``)."""
    return dt.date.today().isoformat(), dt.datetime.now(dt.UTC).date().isoformat()


def configuration_digest(home: HubHome, config: HubConfig) -> str:
    """hub.toml, the district list it names, the key folder's entries, the ``KIM_HUB_*``
    environment and the installed version, as one digest (values hashed, never kept)."""
    parts = [_file_bytes(home.config_file)]
    districts = district_list_path(home, config)
    parts.append(_file_bytes(districts) if districts is not None else b"")
    parts.append(repr(_entries(home.key_dir(config))).encode())
    parts.append(repr(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENVIRONMENT_PREFIX))).encode())
    parts.append(_version().encode())
    return _digest(hashlib.sha256(part).hexdigest() for part in parts)


def _entries(folder: Path) -> list[tuple[str, int, int]]:
    try:
        return sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(folder))
    except OSError:
        return []


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"(unreadable)"


def _version() -> str:
    try:
        return metadata.version("kim-hub")
    except metadata.PackageNotFoundError:
        return "unknown"


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _read_quiet(home: HubHome) -> dict[str, Any] | None:
    try:
        note = json.loads((home.var / QUIET_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None
