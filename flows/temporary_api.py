"""Prefect's temporary API server for one command, dying with the process that started it.

Without a configured Prefect server, Prefect starts a temporary API server as a child process
the first time a flow runs and stops it when the process exits normally. A `kim-hub ingest` that
is killed (a cron timeout, the out-of-memory killer, SIGKILL) leaves that server running, serving
the home's Prefect database, one more with every kill. So the hub starts the server itself, with
the command Prefect uses for its own (uvicorn serving Prefect's app in ephemeral mode, no UI), and
asks the kernel to kill it the moment its parent dies (``runtime.lifetime``); then it points
Prefect at it. Where the platform has no such request, Prefect's own temporary server is used.

The server listens on 127.0.0.1 only, but every local user can reach a loopback port, and
Prefect's API reads and writes the home's run history (flow parameters, logs, results). So each
server gets a random auth string of its own, which Prefect 3 requires of every API call once its
server has one (``PREFECT_SERVER_API_AUTH_STRING``; the client sends ``PREFECT_API_AUTH_STRING``
as HTTP Basic authentication). It lives only in the environment of this process and its server.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from kim_hub.core.errors import TransientError
from kim_hub.runtime.file_modes import make_private_folders
from kim_hub.runtime.lifetime import death_signal_request

STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
SERVER_AUTH_ENV = "PREFECT_SERVER_API_AUTH_STRING"  # the server requires it of every API call
CLIENT_AUTH_ENV = "PREFECT_API_AUTH_STRING"  # the client sends it
SERVER_ENVIRONMENT = {  # what Prefect sets for its own temporary server
    "PREFECT_UI_ENABLED": "0",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


@dataclass(frozen=True)
class TemporaryApi:
    """A running temporary server: its URL and the auth string every client call must carry."""

    url: str
    auth_string: str
    server: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server now (it is stopped at exit anyway; stopping twice is harmless)."""
        _stop(self.server)


def start_temporary_api(timeout: float | None = None, environment: Mapping[str, str] | None = None) -> TemporaryApi:
    """Start Prefect's API on a free loopback port, requiring a new random auth string, and
    return it once it answers. ``environment``: the server's (default: this process's).

    The server is stopped when this process exits: by ``atexit`` on a normal exit, which runs
    after Prefect has drained its log and event workers into it (they drain at thread shutdown,
    before ``atexit``), and by the kernel when the process is killed."""
    port = _free_port()
    auth_string = new_auth_string()
    environment = os.environ if environment is None else environment
    output = _server_log(environment)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(_prefect_package_dir()),
            "--factory",
            "prefect.server.api.server:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
            "--lifespan",
            "on",
        ],
        env={**environment, **SERVER_ENVIRONMENT, SERVER_AUTH_ENV: auth_string},
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=output,
        preexec_fn=death_signal_request(os.getpid()),  # noqa: PLW1509 - prctl must run in the child before exec
    )
    if output is not None:
        os.close(output)  # the server holds its own copy
    atexit.register(_stop, server)
    url = f"http://127.0.0.1:{port}/api"
    _wait_until_healthy(server, url, timeout or float(os.environ.get(STARTUP_TIMEOUT_ENV, "90")))
    return TemporaryApi(url, auth_string, server)


SERVER_LOG = "temporary-server.log"  # in PREFECT_HOME: what the server prints (its errors, its shutdown)
SERVER_LOG_MAX_BYTES = 1_000_000  # begun afresh beyond this


def _server_log(environment: Mapping[str, str]) -> int | None:
    """A descriptor of the server's log in its PREFECT_HOME (the hub's account only), appended to:
    the server's own messages (an error of Prefect's, its database connections dropped when it is
    stopped at the command's end) are not the command's, and a cron job mails what a command
    prints. None without a PREFECT_HOME: then the server prints where this process does."""
    home = environment.get("PREFECT_HOME")
    if not home:
        return None
    path = Path(home) / SERVER_LOG
    try:
        make_private_folders(path.parent)
        fresh = path.exists() and path.stat().st_size > SERVER_LOG_MAX_BYTES
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if fresh else 0) | getattr(os, "O_NOFOLLOW", 0)
        return os.open(path, flags, 0o600)
    except OSError:
        return None


def new_auth_string() -> str:
    """``user:password`` as Prefect's Basic authentication takes it; 256 random bits."""
    return f"kim-hub:{secrets.token_urlsafe(32)}"


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_until_healthy(server: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise TransientError(
                f"Prefect's temporary API server stopped while starting (exit code {server.returncode}; "
                f"its output is in {SERVER_LOG} in Prefect's home, var/prefect/)"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TransientError(f"Prefect's temporary API server did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prefect_package_dir() -> Path:
    """Where Prefect is installed, found without importing it (its settings are read at import)."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise TransientError("Prefect is not installed")
    return Path(spec.origin).parent.parent
