"""A sync with nothing to do, answered before Prefect is imported and recorded on the configured server.

Importing Prefect costs a command more CPU than everything a quiet sync does: its settings,
plug-ins, client and engine took about 2.3 s of the 3.7-4.8 s a no-op `kim-hub ingest` cost
against a running Prefect server, where the sync's first look (``pipeline.sync_work``) takes
about 10 ms and needs nothing of Prefect's. So where the hub's flows use a configured server
(``KIM_HUB_PREFECT_API_URL``), the CLI looks first. When there is nothing to do, it records the
run on that server itself, as the completed run of ``kim-hub-sync`` the flow would have left
(same flow, run name and parameters; a log line saying what the look found), with three requests
to Prefect's REST API, and never imports Prefect. Operators see the same run history.

Whatever it cannot do as Prefect's own client would, it leaves to the real flow: Prefect client
settings it does not apply (custom headers), a refused or failed request, a look that fails.
The flow then runs as always, with its retries and its error handling. With Prefect's temporary
server the flow always runs: the run can only be recorded once the server is up, and starting it
is the cost (``flows.temporary_api``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from kim_hub.pipeline.home import HubConfig, HubHome

SYNC_FLOW_NAME = "kim-hub-sync"
REQUEST_TIMEOUT = (5.0, 15.0)  # seconds to connect, to answer: a server that slow gets the real flow
# Prefect client settings this module does not apply: where one is set, the real flow runs.
UNREPLICATED_SETTINGS = ("PREFECT_CLIENT_CUSTOM_HEADERS",)
COMPLETED_MESSAGE = "nothing new: no delivery, and nothing to link, push or report since the last complete sync"


def run_name() -> str:
    """Run names that say when, instead of Prefect's random adjective-animal names."""
    return "sync-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def answer_quiet_sync(home: HubHome, config: HubConfig, sources: Sequence[str] | None) -> dict[str, Any] | None:
    """The summary of a sync that has nothing to do, its run recorded on the configured Prefect
    server (``recorded_run``: the run's name); None when the real flow must run (work to do, no
    configured server, or anything that did not go as planned)."""
    from kim_hub.flows.prefect_setup import API_URL_OVERRIDE  # here: the CLI imports this module for every command
    from kim_hub.pipeline.sync_work import look_for_work, nothing_new_summary

    api_url = os.environ.get(API_URL_OVERRIDE, "").strip()
    if not api_url or any(os.environ.get(name) for name in UNREPLICATED_SETTINGS):
        return None
    try:
        work = look_for_work(home, config, sources)
    except Exception:  # noqa: BLE001 - the flow's own look retries and reports it
        return None
    if not work.nothing:
        return None
    parameters = {"home_path": str(home.path), "sources": list(sources) if sources is not None else None, "full": False}
    name = record_completed_run(api_url, parameters, "look-for-work (before Prefect started): no source with work, state settled")
    if name is None:
        return None
    return {**nothing_new_summary(home), "recorded_run": name}


def record_completed_run(api_url: str, parameters: dict[str, Any], log_message: str) -> str | None:
    """Record a completed run of the sync flow on the Prefect server at ``api_url``, with one log
    line: the run's name, or None if the server refused or could not be reached (nothing half
    made matters: a flow without runs is what Prefect's client would register anyway)."""
    import requests

    base = api_url.rstrip("/") + "/"
    name = run_name()
    try:
        with requests.Session() as session:
            session.headers.update(_authorization())
            session.verify = _tls_verify()
            flow = _post(session, base + "flows/", {"name": SYNC_FLOW_NAME})
            run = _post(
                session,
                base + "flow_runs/",
                {
                    "flow_id": flow["id"],
                    "name": name,
                    "parameters": parameters,
                    "state": {"type": "COMPLETED", "name": "Completed", "message": COMPLETED_MESSAGE},
                },
            )
            log = {"name": "kim_hub.cli", "level": 20, "message": log_message, "flow_run_id": run["id"]}
            with contextlib.suppress(requests.RequestException, ValueError):  # the run is recorded; its log line is a courtesy
                _post(session, base + "logs/", [{**log, "timestamp": dt.datetime.now(dt.UTC).isoformat()}])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
    return name


def _post(session: Any, url: str, body: Any) -> Any:
    response = session.post(url, json=body, timeout=REQUEST_TIMEOUT)
    response.raise_for_status()
    return response.json() if response.content else None


def _authorization() -> dict[str, str]:
    """The header Prefect's client sends: the auth string of a self-hosted server before an API key."""
    auth_string = os.environ.get("PREFECT_API_AUTH_STRING")
    if auth_string:
        return {"Authorization": "Basic " + base64.b64encode(auth_string.encode()).decode()}
    api_key = os.environ.get("PREFECT_API_KEY")
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _tls_verify() -> bool | str:
    """Certificate checks as Prefect's client makes them: off when asked, else against its certificate file."""
    if os.environ.get("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    return os.environ.get("PREFECT_API_SSL_CERT_FILE") or True
