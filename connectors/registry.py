"""Connectors are found through the ``kim_hub.connectors`` entry-point group.

A municipality can ship a connector as its own package: it declares an entry point in that
group and appears in `kim-hub sources list` without any change here. A class that does not
declare itself a ``FileConnector`` or ``PullConnector`` (``connectors.base``) is refused when it
is loaded, with a message naming the contract, instead of failing later inside a sync run.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import TypeGuard

from kim_hub.connectors.base import Connector, FileConnector, PullConnector
from kim_hub.core.errors import ConfigError
from kim_hub.core.plugins import installed

ENTRY_POINT_GROUP = "kim_hub.connectors"


def available_connectors() -> dict[str, EntryPoint]:
    """Name → entry point of every installed connector."""
    return dict(installed(ENTRY_POINT_GROUP))


def load_connector(name: str) -> Connector:
    """The connector class registered under ``name``, checked against the contract."""
    found = available_connectors()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown connector {name!r} (installed: {known})")
    try:
        connector = found[name].load()
    except Exception as exc:  # noqa: BLE001 - a broken plug-in is a configuration problem, named by kind
        raise ConfigError(f"connector {name!r} cannot be loaded ({type(exc).__name__})") from None
    if getattr(connector, "kind", None) not in ("file", "pull") or not isinstance(getattr(connector, "row_format", None), str):
        raise ConfigError(f"connector {name!r} does not implement kim_hub.connectors.base.FileConnector or PullConnector")
    return connector  # type: ignore[no-any-return]  # checked just above


def is_file_connector(connector: Connector) -> TypeGuard[type[FileConnector]]:
    """Does it read files dropped into an inbox?"""
    return connector.kind == "file"


def is_pull_connector(connector: Connector) -> TypeGuard[type[PullConnector]]:
    """Does the hub ask it (an API)?"""
    return connector.kind == "pull"
