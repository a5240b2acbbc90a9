"""The keys that open the sealed encodings, carried by the database sessions that read them.

Records' encodings and the index snapshot's columns are stored sealed (``linkage.sealed``); only
the hub opens them, in memory, when it loads the index or counts which fields a record has. A
session opened by the pipeline (``pipeline.database.open_sessions``) carries a ``KeyRing`` in its
``info``, as it carries the auditor: the key versions are read from the key folder when first
needed, each once, so a session that opens nothing reads no key. A session without one can still
read clear encodings stored before sealing; a sealed one it refuses (ConfigError).

``seal_clear_encodings`` is the upgrade (``kim-hub init``): every encoding still stored as clear
JSON is sealed in place under its own key version, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.in_lists import IN_CHUNK
from kim_hub.hub_db.keystore import current_key_id, load_keys
from kim_hub.hub_db.models import SourceRecord
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.sealed import SEALED_PREFIX, is_sealed

_KEYRING = "kim_hub.keyring"
SEAL_CHUNK = IN_CHUNK  # rows sealed per UPDATE during the upgrade (their ids bound in one IN list)


class KeyRing:
    """The key versions that open sealed encodings, loaded when first needed.

    ``load(key_id)`` gives a version's keys, ``current()`` the id new things are sealed with."""

    def __init__(self, load: Callable[[str], EncodingKeys], current: Callable[[], str]) -> None:
        self._load = load
        self._current = current
        self._held: dict[str, EncodingKeys] = {}

    @classmethod
    def of_folder(cls, key_dir: Path) -> KeyRing:
        """The key versions of a home's key folder (``hub_db.keystore``)."""
        return cls(lambda key_id: load_keys(key_dir, key_id), lambda: current_key_id(key_dir))

    @classmethod
    def holding(cls, *versions: EncodingKeys) -> KeyRing:
        """Just these key versions, the first one current (tools and tests with keys at hand)."""
        by_id = {keys.key_id: keys for keys in versions}

        def load(key_id: str) -> EncodingKeys:
            if key_id not in by_id:
                raise ConfigError(f"key version {key_id} is not at hand")
            return by_id[key_id]

        return cls(load, lambda: versions[0].key_id)

    def keys(self, key_id: str) -> EncodingKeys:
        """The keys of one version (ConfigError or FatalError when its files are missing or unsafe)."""
        found = self._held.get(key_id)
        if found is None:
            found = self._held[key_id] = self._load(key_id)
        return found

    def current(self) -> EncodingKeys:
        """The current key version's keys (asked of the key folder each time: a rotation moves it)."""
        return self.keys(self._current())

    def forget(self) -> None:
        """Drop the versions held (after a key rotation destroyed one)."""
        self._held.clear()

    def open(self, stored: str, key_id: str, source: str, content_hash: str) -> bytes:
        """A record's encoding as opened bytes (``encoding_bytes.as_dict`` reads them): a sealed one
        opened with its key version, a clear one (JSON stored before sealing) as it is."""
        if not is_sealed(stored):
            return stored.encode("utf-8")
        return self.keys(key_id).open_encoding(stored, source, content_hash)


def keyring_info(ring: KeyRing) -> dict[str, Any]:
    """The ``info`` entry of sessions that open sealed encodings (``hub_db.database.session_factory``)."""
    return {_KEYRING: ring}


def keyring_of(session: Session) -> KeyRing:
    """The session's key ring; ConfigError for a session opened without one."""
    found = session.info.get(_KEYRING)
    if not isinstance(found, KeyRing):
        raise ConfigError("the encodings are stored sealed, and this database session was opened without the keys")
    return found


def keyring_of_sessions(sessions: sessionmaker[Session]) -> KeyRing | None:
    """The key ring a session factory hands its sessions, if any."""
    found = sessions.kw.get("info", {}).get(_KEYRING)
    return found if isinstance(found, KeyRing) else None


def opener(session: Session) -> Callable[[str, str, str, str], bytes]:
    """``KeyRing.open`` of the session's ring, asked for only when a sealed encoding is met, so a
    session without keys still reads clear ones."""

    def open_stored(stored: str, key_id: str, source: str, content_hash: str) -> bytes:
        if not is_sealed(stored):
            return stored.encode("utf-8")
        return keyring_of(session).open(stored, key_id, source, content_hash)

    return open_stored


def seal_clear_encodings(session: Session, ring: KeyRing) -> int:
    """Seal every encoding still stored as clear JSON, each under its own key version, a chunk of
    rows at a time (a million encodings would not fit in memory at once); returns how many were
    (the caller commits)."""
    clear = SourceRecord.encoding.not_like(f"{SEALED_PREFIX}%")
    pks = session.execute(select(SourceRecord.id).where(clear).order_by(SourceRecord.id)).scalars().all()
    columns = (SourceRecord.id, SourceRecord.encoding, SourceRecord.key_id, SourceRecord.source, SourceRecord.content_hash)
    for start in range(0, len(pks), SEAL_CHUNK):
        chunk = pks[start : start + SEAL_CHUNK]
        rows = session.execute(select(*columns).where(SourceRecord.id.in_(chunk), clear)).all()
        sealed = [
            {"id": pk, "encoding": ring.keys(key_id).seal_encoding(text.encode("utf-8"), source, content_hash)}
            for pk, text, key_id, source, content_hash in rows
        ]
        session.execute(update(SourceRecord), sealed)
    return len(pks)
