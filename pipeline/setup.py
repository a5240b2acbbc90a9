"""Creating a home: folders, hub.toml with the default sources, the secret keys, the database.

Safe to run again: nothing that exists is overwritten, a missing part is added (a new source's
inbox, a key, the audit log's key, the newest database migrations), and the modes and groups of
the home's folders are put right (pipeline.home_access). Run on a home made before record ids
were kept encrypted, it also adds the record-id key and encrypts the ids stored in clear of every
source whose ids are to be encrypted (``pipeline.record_ids``), renaming that body's outbox
documents to the tokens: the upgrade path leaves no clear id behind. Run on a home made before
the encodings were sealed, it seals every stored encoding (``pipeline.sealing``). Every run is an admin entry
of the audit log, as is adding a source; the session that writes it first brings a database
older than the erasure ledger up to it (``pipeline.tombstones``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.registry import load_connector
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.database import checkpoint, make_engine, session_factory, upgrade
from kim_hub.hub_db.keystore import create_audit_key, create_erasure_key, create_key, load_audit_key
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.mappings.legal_bases import CONSENT
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import auditor_for, keyring_for, open_sessions
from kim_hub.pipeline.home import (
    HubConfig,
    HubHome,
    SourceConfig,
    check_group_name,
    check_source_name,
    default_config,
)
from kim_hub.pipeline.home_access import prepare_home, prepare_source
from kim_hub.pipeline.keys import encoding_keys as encoding_keys  # re-exported: where tests and benchmarks have always found it
from kim_hub.pipeline.push import outbox_sink
from kim_hub.pipeline.record_ids import SettledIds, settle_record_ids
from kim_hub.pipeline.sealing import seal_stored_encodings
from kim_hub.runtime.file_modes import PASSAGE_MODE, PRIVATE_FILE_MODE, make_folders


def initialise(home: HubHome) -> HubConfig:
    """Create (or complete) a home and return its configuration."""
    return initialise_home(home)[0]


def initialise_home(home: HubHome) -> tuple[HubConfig, SettledIds]:
    """Create (or complete) a home; returns its configuration and which stored record ids it
    encrypted (or found encrypted where they should not be).

    Every run also puts the home's modes and groups right (pipeline.home_access): folders made
    or corrected, the private rooms and hub.toml closed to group and others. So an upgrade, which
    is `kim-hub init` after installing, brings an older home into the model too."""
    make_folders(home.path, PASSAGE_MODE)  # folders above it that the hub makes are passable too, as the home
    created = not home.exists()
    if created:
        config = default_config()  # the default sources under their controllers (mappings/codes/controllers.csv)
        home.save_config(config)
    else:
        config = home.load_config()
    prepare_home(home, config)
    key_dir = home.key_dir(config)
    create_key(key_dir)
    create_audit_key(key_dir)
    create_erasure_key(key_dir)
    if not config.database_url:
        _private_database_file(home.var / "hub.db")
    url = home.database_url(config)
    auditor = auditor_for(home, config)
    upgrade(url, load_audit_key(key_dir), auditor.record_name)  # audit entries a migration moves are sealed
    engine = make_engine(url)
    try:
        sessions = session_factory(engine, auditor, keyring_for(home, config))
        settled = _settle_record_ids(home, config, sessions, encoding_keys(home, config))
        sealed = settled.encodings_sealed = seal_stored_encodings(sessions)
        if settled.encrypted or sealed:
            checkpoint(engine)  # the clear ids' and encodings' old pages leave the write-ahead log now, not at some later close
    finally:
        engine.dispose()
    with open_sessions(home, config) as sessions:
        record_admin(sessions, "init", {"created": created, "sources": sorted(config.sources)})
    return config, settled


def add_source(
    home: HubHome,
    name: str,
    connector: str,
    group: str | None = None,
    body_kind: str | None = None,
    legal_basis: str = CONSENT,
    controller: str | None = None,
) -> HubConfig:
    """Add a source (its connector must load; a connector whose record ids identify persons, the
    job-centre export, makes the hub keep them encrypted; its legal basis must be of the closed
    list, ``mappings.legal_bases``; its controller, if named, must be declared under
    [controllers]), its folders with their modes and group (pipeline.home_access), and an admin
    entry of the audit log."""
    config = home.load_config()
    check_source_name(name, "sources add")
    if group is not None:
        check_group_name(group, "sources add --group")
    if controller is not None and controller not in config.controllers:
        declared = ", ".join(repr(c) for c in config.controllers) or "none"
        raise ConfigError(
            f"sources add --controller: names no controller declared under [controllers] in hub.toml (declared: {declared}); "
            "declare it first (docs/operations.md, 'Controllers and incidents')"
        )
    identifying = getattr(load_connector(connector), "identifying_record_ids", False)  # the job-centre export: Kundennummern
    config.sources[name] = SourceConfig(
        connectors=[connector],
        group=group,
        encrypt_record_ids=True if identifying else None,
        body_kind=body_kind,
        legal_basis=legal_basis,
        controller=controller,
    )
    home.save_config(config)  # refuses a legal basis outside the list or an undeclared controller, before any folder is made
    prepare_source(home, config, name)
    with open_sessions(home, config) as sessions:
        added = {
            "source": name,
            "connector": connector,
            "group": group,
            "body_kind": body_kind,
            "legal_basis": legal_basis,
            "controller": controller,
        }
        record_admin(sessions, "sources.add", added)
    return config


def _settle_record_ids(home: HubHome, config: HubConfig, sessions: sessionmaker[Session], keys: EncodingKeys) -> SettledIds:
    settled = settle_record_ids(config, sessions, keys)
    for source, renamed in settled.encrypted.items():
        outbox_sink(home, source).rename(renamed)
    return settled


def _private_database_file(path: Path) -> None:
    """Create the embedded database's file empty and 0600 before SQLite does: SQLite gives its
    -wal, -shm and journal files the database file's mode, so all of them stay the hub's, whatever
    the umask of the process that first opens it. An empty file is a new database to SQLite."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE))
