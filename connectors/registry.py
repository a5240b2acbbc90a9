"""Connectors are found through the ``kim_hub.connectors`` entry-point group.

A municipality can ship a connector as its own package: it declares an entry point in that
group and appears in `kim-hub sources list` without any change here.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from kim_hub.connectors.errors import ConfigError

ENTRY_POINT_GROUP = "kim_hub.connectors"


def available_connectors() -> dict[str, Any]:
    """Name → connector class of every installed connector."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_connector(name: str) -> Any:
    """The connector class registered under ``name``."""
    found = available_connectors()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown connector {name!r} (installed: {known})")
    return found[name].load()
