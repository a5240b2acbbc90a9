"""The home's encoding keys, loaded where a command or a task needs them and nothing else.

``pipeline.setup`` (the home's making: migrations, folders, the first keys) re-exports
``encoding_keys``; a command that only needs the keys, such as `kim-hub ingest` refusing an
exposed key before Prefect starts, imports them from here and loads none of the set-up.
"""

from __future__ import annotations

from kim_hub.hub_db.keystore import load_keys
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.pipeline.home import HubConfig, HubHome


def encoding_keys(home: HubHome, config: HubConfig) -> EncodingKeys:
    """The home's current key, derived per purpose; refuses (FatalError) a key file others can read."""
    return load_keys(home.key_dir(config))
