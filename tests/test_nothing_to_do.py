"""A quiet sync recorded on the Prefect server without Prefect (``flows.nothing_to_do``): what it
sends, how it authenticates as Prefect's client would, and that every failure leaves it to the flow.
The server is mocked with ``responses``; tests/e2e/test_noop_sync.py runs it against a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses

from kim_hub.flows.nothing_to_do import COMPLETED_MESSAGE, SYNC_FLOW_NAME, answer_quiet_sync, record_completed_run
from kim_hub.flows.prefect_setup import API_URL_OVERRIDE
from kim_hub.pipeline.home import HubHome

API = "http://prefect.test:4200/api"
PARAMETERS = {"home_path": "/srv/kim-hub", "sources": None, "full": False}


def _server(flow_status: int = 200, run_status: int = 201, log_status: int = 201) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.post(f"{API}/flows/", json={"id": "flow-1"}, status=flow_status)
    run = {"id": "run-1", "end_time": "2026-12-07T18:00:00Z"}
    mock.post(f"{API}/flow_runs/", json=run, status=run_status)
    mock.post(f"{API}/logs/", json=None, status=log_status)
    return mock


def test_the_run_is_recorded_as_the_flow_would_leave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_API_KEY", raising=False)
    with _server() as server:
        name = record_completed_run(API + "/", PARAMETERS, "look found nothing")
        calls = list(server.calls)  # the mock forgets its calls when it closes
    assert name is not None and name.startswith("sync-")
    flow, run, log = (json.loads(call.request.body or b"") for call in calls)
    assert flow == {"name": SYNC_FLOW_NAME}
    assert run["flow_id"] == "flow-1" and run["name"] == name and run["parameters"] == PARAMETERS
    assert run["state"] == {"type": "COMPLETED", "name": "Completed", "message": COMPLETED_MESSAGE}
    assert log[0]["flow_run_id"] == "run-1" and log[0]["message"] == "look found nothing"
    assert all("Authorization" not in call.request.headers for call in calls)


@pytest.mark.parametrize(
    ("environment", "header"),
    [
        ({"PREFECT_API_AUTH_STRING": "admin:pass", "PREFECT_API_KEY": "pnu_x"}, "Basic YWRtaW46cGFzcw=="),
        ({"PREFECT_API_KEY": "pnu_x"}, "Bearer pnu_x"),
    ],
)
def test_credentials_are_sent_as_prefects_client_sends_them(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], header: str
) -> None:
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with _server() as server:
        assert record_completed_run(API, PARAMETERS, "look") is not None
        assert {call.request.headers["Authorization"] for call in server.calls} == {header}


@pytest.mark.parametrize("failing", ["flow", "run"])
def test_a_refused_request_leaves_the_run_to_the_flow(failing: str) -> None:
    with _server(flow_status=401 if failing == "flow" else 200, run_status=403 if failing == "run" else 201):
        assert record_completed_run(API, PARAMETERS, "look") is None


def test_an_unreachable_server_leaves_the_run_to_the_flow() -> None:
    with responses.RequestsMock() as server:
        server.post(f"{API}/flows/", body=requests.ConnectionError("refused"))
        assert record_completed_run(API, PARAMETERS, "look") is None


def test_a_refused_log_line_does_not_undo_the_recorded_run() -> None:
    with _server(log_status=422):
        assert record_completed_run(API, PARAMETERS, "look") is not None


def test_without_a_configured_server_or_with_a_client_setting_it_does_not_apply_the_flow_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = HubHome(tmp_path / "home")  # never looked at: each case gives way before the look
    monkeypatch.delenv(API_URL_OVERRIDE, raising=False)
    with responses.RequestsMock() as server:  # and no request is made
        assert answer_quiet_sync(home, None, None) is None  # type: ignore[arg-type]
        monkeypatch.setenv(API_URL_OVERRIDE, API)
        monkeypatch.setenv("PREFECT_CLIENT_CUSTOM_HEADERS", '{"X-Tenant": "kim"}')
        assert answer_quiet_sync(home, None, None) is None  # type: ignore[arg-type]
        assert not server.calls


def test_the_cli_path_to_a_quiet_answer_imports_no_prefect() -> None:
    """What a quiet sync loads: the CLI's sync commands and this module, never Prefect (its
    import is what the answer saves)."""
    probe = "import sys, kim_hub.cli.main, kim_hub.cli.sync, kim_hub.flows.nothing_to_do; print('prefect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"
