"""`kim-hub serve`: the hub's flows as scheduled Prefect deployments on this host.

One sync deployment per source (its own cron from hub.toml), plus push, report, retention and
re-estimation on the crons of ``[schedules]``.
Every deployment has a concurrency limit of 1, so two runs of the same source never overlap;
the flows are idempotent anyway (ledger, content hashes), so a run that finds nothing new ends
after its checks. For several machines the same deployments go to a work pool instead
(docs/operations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kim_hub.flows.prefect_setup import install_redaction
from kim_hub.pipeline.home import HubConfig, HubHome

if TYPE_CHECKING:
    from prefect import Flow


def deployments(home: HubHome, config: HubConfig) -> list[Any]:
    """The RunnerDeployments `serve` registers (built, not started: testable without a server)."""
    from kim_hub.flows.sync import push_flow, reestimate_flow, report_flow, retention_flow, sync_flow

    home_path = str(home.path)
    built = [
        sync_flow.to_deployment(  # type: ignore[call-arg]  # _sync: Prefect's dispatch takes it, its signature does not say so
            name=f"sync-{source}",
            cron=settings.schedule,
            parameters={"home_path": home_path, "sources": [source]},
            concurrency_limit=1,
            _sync=True,  # built here, synchronously, even if the caller's thread runs an event loop
            tags=["kim-hub", f"source:{source}"],
            description=f"Pull, pseudonymise and link the deliveries of {source}.",
        )
        for source, settings in config.sources.items()
    ]
    maintenance: tuple[tuple[Flow[..., dict[str, Any]], str, str, dict[str, Any]], ...] = (
        (push_flow, "push", config.schedules.push, {}),
        (report_flow, "report", config.schedules.report, {}),
        (retention_flow, "retention", config.schedules.retention, {}),
        (reestimate_flow, "reestimate", config.schedules.reestimate, {"relink": False}),
    )
    for flow, name, cron, extra in maintenance:
        built.append(
            flow.to_deployment(  # type: ignore[call-arg]
                name=name,
                cron=cron,
                parameters={"home_path": home_path, **extra},
                concurrency_limit=1,
                _sync=True,
                tags=["kim-hub"],
                description=flow.description,
            )
        )
    return built


def serve(home: HubHome) -> None:
    """Register the deployments and run their schedules until interrupted (Ctrl-C).

    The runner starts each flow run in a process of its own, which inherits the hub's logging
    configuration through the environment (``prefect_setup.prepare_prefect``: the redacting filter
    on every handler) and runs flows whose tasks and bodies let only StepErrors out
    (``flows.boundary``); this process's own handlers get the filter here."""
    from prefect import serve as prefect_serve

    install_redaction()
    prefect_serve(*deployments(home, home.load_config()))
