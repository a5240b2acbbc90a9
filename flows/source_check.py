"""`kim-hub sources check`: can every configured source deliver? Never raises, only reports."""

from __future__ import annotations

import os

from kim_hub.connectors.base import HealthResult
from kim_hub.connectors.errors import HubError
from kim_hub.connectors.registry import load_connector
from kim_hub.flows.home import HubConfig, HubHome
from kim_hub.flows.ingest import MAPPINGS


def check_sources(home: HubHome, config: HubConfig) -> dict[str, list[tuple[str, HealthResult]]]:
    """Per source: each connector loads and has a mapping, the inbox is usable, APIs answer."""
    results: dict[str, list[tuple[str, HealthResult]]] = {}
    for source, settings in config.sources.items():
        checks: list[tuple[str, HealthResult]] = []
        for name in settings.connectors:
            checks.append((f"connector {name}", _connector_health(name, settings.options)))
        inbox = home.inbox(source)
        usable = inbox.is_dir() and os.access(inbox, os.R_OK | os.W_OK | os.X_OK)
        checks.append(("inbox", HealthResult(usable, str(inbox) if usable else f"{inbox} missing or not writable")))
        results[source] = checks
    return results


def _connector_health(name: str, options: dict[str, str]) -> HealthResult:
    try:
        connector = load_connector(name)
    except HubError as exc:
        return HealthResult(False, str(exc))
    if getattr(connector, "row_format", None) not in MAPPINGS:
        return HealthResult(False, f"no mapping for row format {getattr(connector, 'row_format', '?')!r}")
    if hasattr(connector, "pull"):
        try:
            return connector(connector.config_model.from_options(options)).check()
        except HubError as exc:
            return HealthResult(False, str(exc))
    return HealthResult(True, "installed")
