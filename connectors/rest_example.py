"""An in-memory provider API for the REST connector's example delivery (no network, no server).

It answers ``GET /cases`` with one page of the given persons as ``CaseRecord`` items and
``GET /health`` with ok, mounted on a ``requests.Session`` as a transport adapter (the connector's
I/O seam). The standard connector test suite pulls through it, so the pull connector is tested on
its own example the way file connectors are tested on their example files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

from kim_hub.connectors.base import ExamplePerson

EXAMPLE_BASE_URL = "https://provider.example.invalid/kim/v1"


class ExampleApi(BaseAdapter):
    """Serves ``/cases`` and ``/health`` from memory."""

    def __init__(self, persons: Sequence[ExamplePerson]) -> None:
        super().__init__()
        self.items = [
            {
                "record_id": p.record_id,
                "family_name": p.family_name,
                "given_names": p.given_names,
                "birth_date": p.birth_date,
                "updated_at": "2026-11-24T22:00:00+01:00",
            }
            for p in persons
        ]

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        path = urlsplit(request.url or "").path
        if request.method == "GET" and path.endswith("/cases"):
            return _json_response(request, 200, {"items": self.items, "next_cursor": None})
        if request.method == "GET" and path.endswith("/health"):
            return _json_response(request, 200, {"status": "ok"})
        return _json_response(request, 404, {"detail": "not found"})

    def close(self) -> None:
        """Nothing to release."""


def _json_response(request: requests.PreparedRequest, status: int, body: Mapping[str, Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.url = request.url or ""
    response.headers["Content-Type"] = "application/json"
    response.raw = io.BytesIO(json.dumps(body).encode("utf-8"))  # streamed like a network answer
    return response
