"""Creating a home: folders, hub.toml with the default sources, the secret key, the database.

Safe to run again: nothing that exists is overwritten, a missing part is added (a new source's
inbox, a key, the newest database migrations).
"""

from __future__ import annotations

from kim_hub.hub_db.database import upgrade
from kim_hub.hub_db.keystore import create_key, load_keys
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome, default_source


def initialise(home: HubHome) -> HubConfig:
    """Create (or complete) a home and return its configuration."""
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
    upgrade(home.database_url(config))
    return config


def encoding_keys(home: HubHome, config: HubConfig) -> EncodingKeys:
    """The home's current key, derived per purpose; refuses (FatalError) a key file others can read."""
    return load_keys(home.key_dir(config))
