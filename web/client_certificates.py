"""Mutual TLS for the bodies that want it: a client certificate instead of a token.

`kim-hub web --client-ca FILE` asks every TLS client for a certificate (optional: browsers and
token users send none) and accepts only those its CA file vouches for. Uvicorn does not hand the
application the certificate, so the server's HTTP protocol (``ClientCertificateProtocol``, uvicorn's
h11 protocol) reads the verified certificate's subject when the connection is made and puts it
into every request of that connection as ASGI's TLS extension (``client_cert_subject``). The API
(``web.api``) maps the subject to a body and its scopes through hub.toml's
``[[api.client_certificates]]``; a subject not listed there is no caller. A bearer token, when
one is sent, decides instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

SUBJECT_KEY = "client_cert_subject"
SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "emailAddress": "emailAddress",
}


def subject_of(peercert: Mapping[str, Any] | None) -> str | None:
    """The subject of a certificate as Python's ``ssl`` module decodes it, written as its RDNs in
    order (``CN=…,O=…``); None without a (verified) certificate."""
    if not peercert:
        return None
    parts = [f"{SHORT_NAMES.get(name, name)}={value}" for rdn in peercert.get("subject", ()) for name, value in rdn]
    return ",".join(parts) or None


def client_subject(scope: Scope) -> str | None:
    """The verified client certificate's subject of the request, if its connection had one."""
    tls = scope.get("extensions", {}).get("tls", {})
    subject = tls.get(SUBJECT_KEY)
    return subject if isinstance(subject, str) else None


class ClientCertificateProtocol(H11Protocol):
    """Uvicorn's h11 protocol, with the connection's verified client certificate subject in the
    scope of each of its requests."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        subject = subject_of(transport.get_extra_info("peercert"))
        if subject is None:
            return
        inner = self.app

        async def with_subject(scope: Scope, receive: Receive, send: Send) -> None:
            extensions = dict(scope.get("extensions") or {})
            extensions["tls"] = {**extensions.get("tls", {}), SUBJECT_KEY: subject}
            await inner({**scope, "extensions": extensions}, receive, send)

        self.app = with_subject
