"""Local servers for tests: a free port, and the web application served under uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kim_hub.pipeline.home import HubHome

STARTUP_SECONDS = 20
"""How long the web application may take to listen before the test fails."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving_web(home: HubHome, port: int | None = None) -> Iterator[str]:
    """The real web application of ``home`` on 127.0.0.1 (``port``, else a free one),
    as `kim-hub web` serves it; yields its address and stops it afterwards. Imported here, not at
    the top: only the web tests need uvicorn and the application."""
    import uvicorn

    from kim_hub.web.app import create_app

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(home), host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        assert time.monotonic() < deadline, "the web application did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
