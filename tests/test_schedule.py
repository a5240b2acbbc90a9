"""`kim-hub serve` registers one sync deployment per source plus maintenance, none overlapping."""

from __future__ import annotations

from kim_hub.flows.schedule import deployments
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.setup import initialise


def test_one_deployment_per_source_plus_maintenance_each_limited_to_one_run(tmp_path) -> None:
    home = HubHome(tmp_path / "home")
    config = initialise(home)
    config.sources["caritas"].schedule = "5 * * * *"
    built = {d.name: d for d in deployments(home, config)}
    assert set(built) == {f"sync-{s}" for s in config.sources} | {"push", "report", "retention", "reestimate"}
    caritas = built["sync-caritas"]
    assert caritas.parameters == {"home_path": str(home.path), "sources": ["caritas"]}
    assert caritas.schedules[0].schedule.cron == "5 * * * *"
    for deployment in built.values():
        limit = deployment.concurrency_limit
        assert (limit if isinstance(limit, int) else limit.limit) == 1
