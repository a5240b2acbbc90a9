"""`kim-hub web`: the application served by uvicorn on one home.

Served over TLS (``certfile``/``keyfile``) the session cookie is Secure and every response carries
HSTS; without, it is for a machine's own address or behind a TLS-terminating proxy on the same
host. With ``client_ca`` as well, a body's software may sign in to the API with a client
certificate instead of a token (mutual TLS, ``web.client_certificates``). Uvicorn's access log stays off: the audit log records who saw what, and an access log would
keep employees' addresses beside it with nothing to retain them by.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import uvicorn

from kim_hub.pipeline.home import HubHome
from kim_hub.web.app import create_app
from kim_hub.web.client_certificates import ClientCertificateProtocol
from kim_hub.web.security import SecurityHeaders


def serve(
    home: HubHome,
    host: str = "127.0.0.1",
    port: int = 8080,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    client_ca: Path | None = None,
) -> None:
    """Run the application until interrupted."""
    uvicorn.Server(server_config(home, host, port, certfile, keyfile, client_ca)).run()


def server_config(
    home: HubHome,
    host: str = "127.0.0.1",
    port: int = 8080,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    client_ca: Path | None = None,
) -> uvicorn.Config:
    """How uvicorn serves the application; with ``client_ca`` (over TLS), clients may show a
    certificate that CA file vouches for (``web.client_certificates``)."""
    mutual: dict[str, Any] = {}
    if client_ca is not None:
        mutual = {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_OPTIONAL, "http": ClientCertificateProtocol}
    return uvicorn.Config(
        SecurityHeaders(create_app(home)),  # outermost too: an unexpected error's 500 carries the headers
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        proxy_headers=False,
        server_header=False,
        **mutual,
    )
