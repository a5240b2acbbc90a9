"""What an operator sees of the sources: whether each can deliver, and its deliveries so far.

No person-level data: the checks of `kim-hub sources check` (``pipeline.source_check``) and, per
source, the ledger's delivered files counted by status with the time of the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kim_hub.core.rows import HealthResult
from kim_hub.hub_db.records import deliveries_by_source
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.source_check import check_sources


@dataclass(frozen=True)
class SourceOverview:
    name: str
    checks: tuple[tuple[str, HealthResult], ...]
    files_by_status: dict[str, int]
    last_delivery: dt.datetime | None

    @property
    def healthy(self) -> bool:
        return all(result.ok for _, result in self.checks)


def source_overview(home: HubHome) -> list[SourceOverview]:
    """Every configured source's health and deliveries, by name."""
    config = home.load_config()
    checks = check_sources(home, config)
    with open_sessions(home, config) as sessions, sessions() as session:
        deliveries = deliveries_by_source(session)
    return [
        SourceOverview(name, tuple(checks.get(name, ())), *deliveries.get(name, ({}, None))) for name in sorted(config.sources)
    ]
