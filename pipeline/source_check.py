"""`kim-hub sources check`: can every configured source deliver? Never raises, only reports."""

from __future__ import annotations

import os

from kim_hub.connectors.registry import is_pull_connector, load_connector
from kim_hub.core.errors import HubError
from kim_hub.core.rows import HealthResult
from kim_hub.mappings.identifier_policy import identifier_policy
from kim_hub.mappings.registry import load_mapping
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.pipeline.vocabulary import district_list, district_list_path


def check_sources(home: HubHome, config: HubConfig) -> dict[str, list[tuple[str, HealthResult]]]:
    """Per source: each connector loads and has a mapping, the inbox is usable, APIs answer, and
    the district list its rows are read against can be used (``pipeline.vocabulary``)."""
    results: dict[str, list[tuple[str, HealthResult]]] = {}
    districts = _district_list_health(home, config)
    for source, settings in config.sources.items():
        checks: list[tuple[str, HealthResult]] = [
            (f"connector {name}", _connector_health(name, settings.options)) for name in settings.connectors
        ]
        inbox = home.inbox(source)
        usable = inbox.is_dir() and os.access(inbox, os.R_OK | os.W_OK | os.X_OK)
        checks.append(("inbox", HealthResult(usable, str(inbox) if usable else f"{inbox} missing or not writable")))
        checks.append(("district list", districts))
        checks.append(("identifiers", _identifiers_health(settings)))
        results[source] = checks
    return results


def _district_list_health(home: HubHome, config: HubConfig) -> HealthResult:
    try:
        districts = district_list(home, config)
    except HubError as exc:
        return HealthResult(False, str(exc))
    path = district_list_path(home, config)
    return HealthResult(True, f"{path} ({len(districts.labels)} districts)" if path and districts else "shipped list")


def _identifiers_health(settings: SourceConfig) -> HealthResult:
    """Which identifiers the source's deliveries keep and which the policy drops (never a
    failure: a basis not named is lawful, only the linkage has less to go on). An authority
    marked as the AZR's keeper without a basis for AZR numbers is said so: its numbers are dropped."""
    taken = settings.taken_identifiers
    kept = [f"{kind} ({settings.identifiers[kind]})" for kind in sorted(taken)]
    dropped = [kind for kind in identifier_policy().rules if kind not in taken]
    detail = f"body_kind {settings.body_kind or 'not declared'}; takes {', '.join(kept) or 'none'}; drops {', '.join(dropped)}"
    if settings.azr_authoritative and "azr_number" not in taken:
        detail += "; azr_authoritative is set but no legal basis is named for azr_number, so its AZR numbers are dropped"
    return HealthResult(True, detail)


def _connector_health(name: str, options: dict[str, str]) -> HealthResult:
    try:
        connector = load_connector(name)
        load_mapping(connector.row_format)
        if is_pull_connector(connector):
            return connector(connector.config_model.from_options(options)).check()
    except HubError as exc:
        return HealthResult(False, str(exc))
    return HealthResult(True, "installed")
