"""`kim-hub backup` and `kim-hub restore`: the database copied out, and replaced from a copy.

A backup is taken after the database was brought up to the erasure ledger (every command does
that first), written to a temporary file of mode 0600 beside the target and renamed over it when
complete: a reader never finds half a backup under the name. A restore replaces the database
under the ledger's lock (no erasure runs meanwhile), applies the migrations of this version,
starts the audit log's anchor anew (the restored log ends where the backup ends: the old anchor
is kept beside it, and an admin entry says how many entries each channel lost), and then applies
every erasure the ledger recorded after the backup's mark, before the command returns: an erased
person is erased again before anything can read them. The ledger itself is never part of
a backup and never restored (``hub_db.erasure_ledger``).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import Auditor, last_sequences, read_anchor
from kim_hub.hub_db.backup import backup_database, restore_database
from kim_hub.hub_db.database import make_engine, session_factory, upgrade
from kim_hub.hub_db.keystore import load_audit_key
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import auditor_for, keyring_for
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.private_files import check_target
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.sealing import seal_stored_encodings
from kim_hub.pipeline.tombstones import CatchUp, apply_pending, erasure_ledger
from kim_hub.runtime.durability import sync_folder


def backup(home: HubHome, config: HubConfig, out: Path) -> None:
    """A consistent copy of the home's database in ``out`` (mode 0600, replaced atomically)."""
    check_target(out, "--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(descriptor)
    partial = Path(name)
    try:
        backup_database(home.database_url(config), partial)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        check_target(out, "--out")  # a link planted meanwhile is refused too
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    sync_folder(out.parent)


def restore(home: HubHome, config: HubConfig, backup_file: Path) -> CatchUp:
    """Replace the home's database with ``backup_file``, bring its schema to this version and
    apply every erasure recorded since the backup; returns what was erased again."""
    if not backup_file.is_file():
        raise ConfigError(f"restore: {backup_file} is not a file")
    url = home.database_url(config)
    ledger = erasure_ledger(home, config)
    auditor = auditor_for(home, config)
    with ledger.locked():
        restore_database(url, backup_file)
        upgrade(url, load_audit_key(home.key_dir(config)), auditor.record_name)
        engine = make_engine(url)
        try:
            sessions = session_factory(engine, auditor, keyring_for(home, config))
            _restart_audit_anchor(auditor, sessions)
            seal_stored_encodings(sessions)  # a backup from before sealing: sealed before anything reads it
            return apply_pending(home, sessions, ledger, RecordIdForms.of(home, config))
        finally:
            engine.dispose()


def _restart_audit_anchor(auditor: Auditor, sessions: sessionmaker[Session]) -> None:
    """The restored audit log ends where the backup ends, behind the anchor (``hub_db.audit_log``),
    which would fail every verification from now on. So the anchor is moved aside (kept, as the
    evidence of how far the log went) and the restore is the first entry of a new one: an admin
    entry with how many entries each channel lost."""
    path = auditor.anchor_path
    before: dict[str, tuple[int, str]] = {}
    if path is not None and path.exists():
        before = read_anchor(path, auditor.key).heads
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        os.replace(path, path.with_name(f"{path.name}.before-restore-{stamp}"))
    with sessions() as session:
        restored = last_sequences(session)
    lost = {
        channel: head[0] - restored.get(channel, 0)
        for channel, head in sorted(before.items())
        if head[0] > restored.get(channel, 0)
    }
    record_admin(sessions, "database.restore", {"entries_lost": lost})
