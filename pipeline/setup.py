"""Creating a home: folders, hub.toml with the default sources, the secret keys, the database.

Safe to run again: nothing that exists is overwritten, a missing part is added (a new source's
inbox, a key, the newest database migrations). Run on a home made before record ids were kept
encrypted, it also adds the record-id key and encrypts the ids stored in clear of every source
whose ids are to be encrypted (``pipeline.record_ids``), renaming that body's outbox documents
to the tokens: the upgrade path leaves no clear id behind.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.database import checkpoint, make_engine, session_factory, upgrade
from kim_hub.hub_db.keystore import create_key, load_keys
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source
from kim_hub.pipeline.push import outbox_sink
from kim_hub.pipeline.record_ids import SettledIds, settle_record_ids


def initialise(home: HubHome) -> HubConfig:
    """Create (or complete) a home and return its configuration."""
    return initialise_home(home)[0]


def initialise_home(home: HubHome) -> tuple[HubConfig, SettledIds]:
    """Create (or complete) a home; returns its configuration and which stored record ids it
    encrypted (or found encrypted where they should not be)."""
    home.path.mkdir(parents=True, exist_ok=True)
    if home.exists():
        config = home.load_config()
    else:
        config = HubConfig(sources={name: default_source(name) for name in DEFAULT_SOURCES})
        home.save_config(config)
    for name in config.sources:
        home.inbox(name).mkdir(parents=True, exist_ok=True)
    home.var.mkdir(parents=True, exist_ok=True)
    home.reports.mkdir(parents=True, exist_ok=True)
    create_key(home.key_dir(config))
    url = home.database_url(config)
    upgrade(url)
    engine = make_engine(url)
    try:
        settled = _settle_record_ids(home, config, session_factory(engine), encoding_keys(home, config))
        if settled.encrypted:
            checkpoint(engine)  # the clear ids' old pages leave the write-ahead log now, not at some later close
    finally:
        engine.dispose()
    return config, settled


def _settle_record_ids(home: HubHome, config: HubConfig, sessions: sessionmaker[Session], keys: EncodingKeys) -> SettledIds:
    settled = settle_record_ids(config, sessions, keys)
    for source, renamed in settled.encrypted.items():
        outbox_sink(home, source).rename(renamed)
    return settled


def encoding_keys(home: HubHome, config: HubConfig) -> EncodingKeys:
    """The home's current key, derived per purpose; refuses (FatalError) a key file others can read."""
    return load_keys(home.key_dir(config))
