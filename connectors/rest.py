"""Connector for providers whose case-management system has an API (docs/provider-api.openapi.yaml).

    pull(state)       GET /cases page by page → one FileBatch of provider-export rows + new state
    push(summaries)   POST /summaries in chunks (the exchange feature)
    check()           GET /health → HealthResult; never raises

Rows carry the canonical fields of the standard provider export (``row_format = "provider-csv"``),
so the hub maps them with ``mappings.provider_csv.map_provider_row`` like a delivered CSV file.
State is data the hub stores: ``{"updated_since": <newest updated_at seen>}``. It is returned only
after the last page arrived, so a failure mid-way keeps the old state and a re-pull repeats pages,
never skips them. The token is a SecretStr; it is sent in a header and appears in no repr, log line
or error message. Retry policy, redirects, the environment and error mapping: connectors/rest_http.py.

A pull is bounded (``max_pages``, ``max_items``, ``max_response_bytes``): an API that pages without
end, or answers without end, refuses the pull with a reason instead of exhausting the hub, and
nothing of it is stored. A summary whose text cannot be written as UTF-8 is refused on its own
(``PushResult.refused``) so it cannot hold up the summaries beside it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, FilePath, SecretStr, ValidationError, field_validator

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, PullConnector, PullResult
from kim_hub.connectors.column_map import provider_csv_column_map
from kim_hub.connectors.rest_example import EXAMPLE_BASE_URL, ExampleApi
from kim_hub.connectors.rest_http import HttpClient, Limits, RetryPolicy
from kim_hub.connectors.rest_rows import NOT_UNICODE, build_batch, is_unicode
from kim_hub.core.errors import BadInputError, ConfigError
from kim_hub.core.rows import HealthResult

log = logging.getLogger(__name__)

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class RestConfig(BaseModel):
    """Where a provider's API is and how patiently to talk to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="API root, e.g. https://cases.provider.example/kim/v1 (https; http only for localhost)")
    token: SecretStr = Field(description="bearer token; secret: never logged, never in repr or errors")
    page_size: int = Field(default=500, ge=1, le=1000, description="records per page, and summaries per POST")
    timeout_seconds: float = Field(default=30, gt=0, description="connect and read timeout per request")
    max_retries: int = Field(default=5, ge=0, description="retries after the first attempt (429, 502-504, network)")
    backoff_seconds: float = Field(default=1.0, ge=0, description="first backoff; doubles per retry, with jitter")
    max_backoff_seconds: float = Field(default=60, ge=0, description="cap on any wait, Retry-After included")
    max_pages: int = Field(default=1000, ge=1, description="pages one pull may read; more refuse the pull")
    max_items: int = Field(default=500_000, ge=1, description="records one pull may read; more refuse the pull")
    max_response_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="bytes one response body may have (64 MiB); reading stops past it"
    )
    proxy: str | None = Field(
        default=None, description="http(s) proxy URL without credentials; proxy variables of the environment are ignored"
    )
    ca_bundle: FilePath | None = Field(
        default=None,
        description="PEM file of CA certificates to trust instead of the default store (REQUESTS_CA_BUNDLE is ignored)",
    )

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        """The token travels in every request: plain http would expose it on the wire."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise ValueError("base_url must use https (http is allowed for localhost only)")
        return value

    @field_validator("proxy")
    @classmethod
    def _proxy_without_credentials(cls, value: str | None) -> str | None:
        """hub.toml is shared and versioned, and this value shows in the config's repr: no secrets in it."""
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("proxy must be an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("proxy must not carry credentials")
        return value

    @classmethod
    def from_options(cls, options: Mapping[str, str], environ: Mapping[str, str] | None = None) -> RestConfig:
        """Build from a source's ``options`` in hub.toml; the token comes from the variable ``token_env`` names.

        The token itself is refused in hub.toml, so the file can be shared and versioned. Errors
        name options, not values.
        """
        environ = os.environ if environ is None else environ
        settings: dict[str, Any] = dict(options)
        if "token" in settings:
            raise ConfigError("rest connector: do not put the token in hub.toml; set token_env to an environment variable")
        variable = settings.pop("token_env", "")
        if not variable:
            raise ConfigError("rest connector: option token_env (the environment variable holding the token) is missing")
        if not environ.get(variable):
            raise ConfigError(f"rest connector: environment variable {variable} is not set")
        try:
            return cls(token=SecretStr(environ[variable]), **settings)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False))
            raise ConfigError(f"rest connector: invalid options ({problems})") from None


@dataclass(frozen=True)
class PushResult:
    """How many summaries the provider stored, and which were not sent at all (their positions in
    the list given, from 0) because their text cannot be written as UTF-8: the caller must not
    record those as delivered."""

    accepted: int
    refused: tuple[int, ...] = ()


class RestConnector(PullConnector):
    """Pulls case records from, and pushes summaries to, one provider API."""

    name: ClassVar[str] = "rest"
    row_format: ClassVar[str] = "provider-csv"
    config_model: ClassVar[type[RestConfig]] = RestConfig
    pushes: ClassVar[bool] = True

    def __init__(
        self,
        config: RestConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        parts = urlsplit(config.base_url)
        self.host = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "unknown"
        policy = RetryPolicy(config.max_retries, config.backoff_seconds, config.max_backoff_seconds)
        self._http = HttpClient(
            config.base_url,
            config.token,
            Limits(config.timeout_seconds, config.max_response_bytes),
            policy,
            _configured(session or requests.Session(), config),
            sleep,
            rng or random.Random(),
        )

    def __repr__(self) -> str:
        return f"RestConnector(host={self.host!r})"

    def pull(self, state: Mapping[str, Any]) -> PullResult:
        """Every record changed since ``state["updated_since"]`` (all records when absent).

        Raises (and so keeps the caller's old state) when any page fails; see rest_http for which.
        """
        since = state.get("updated_since")
        since = str(since) if since else None
        items = self._items(since)
        columns = provider_csv_column_map().canonical_columns
        batch, newest = build_batch(items, self.host, columns, since)
        new_state = dict(state)
        if newest:
            new_state["updated_since"] = newest
        return PullResult(batch=batch, state=new_state)

    def _items(self, since: str | None) -> list[Any]:
        """Every item of every page, within ``max_pages`` and ``max_items``; raises past either."""
        params: dict[str, str | int] = {"page_size": self.config.page_size}
        if since:
            params["updated_since"] = since
        items: list[Any] = []
        seen_cursors: set[str] = set()
        for _ in range(self.config.max_pages):
            page, cursor = self._page(params)
            items.extend(page)
            if len(items) > self.config.max_items:
                raise BadInputError(_over_limit(f"{self.config.max_items} items", "max_items"))
            if cursor is None:
                return items
            if cursor in seen_cursors:
                raise BadInputError("GET /cases: the API returned the same cursor twice; paging stopped")
            seen_cursors.add(cursor)
            params = {"page_size": self.config.page_size, "cursor": cursor}
        raise BadInputError(_over_limit(f"{self.config.max_pages} pages", "max_pages"))

    def _page(self, params: Mapping[str, str | int]) -> tuple[list[Any], str | None]:
        body = _json_body(self._http.send("GET", "/cases", params=params), "GET /cases")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise BadInputError("GET /cases: response has no 'items' list")
        cursor = body.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise BadInputError("GET /cases: next_cursor must be a string or null")
        if cursor is not None and not is_unicode(cursor):
            raise BadInputError(f"GET /cases: next_cursor is {NOT_UNICODE}")
        return body["items"], cursor or None

    def push(self, summaries: Sequence[Mapping[str, Any]]) -> PushResult:
        """POST summaries in chunks of ``page_size``; summaries must be JSON-ready (``model_dump(mode="json")``).

        A summary whose text cannot be written as UTF-8 is left out and listed in ``refused``;
        the others go as usual. A failure raises after earlier chunks were stored; the API is
        idempotent per summary, so the caller simply pushes all of them again.
        """
        encoded, refused = _encoded_summaries(summaries)
        accepted = 0
        size = self.config.page_size
        for start in range(0, len(encoded), size):
            body = b'{"summaries":[' + b",".join(encoded[start : start + size]) + b"]}"
            answer = _json_body(self._http.send("POST", "/summaries", body=body), "POST /summaries")
            count = answer.get("accepted") if isinstance(answer, dict) else None
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise BadInputError("POST /summaries: response has no 'accepted' count")
            accepted += count
        return PushResult(accepted=accepted, refused=refused)

    def check(self) -> HealthResult:
        """One GET /health without retries, so a status page answers quickly; never raises."""
        try:
            response = self._http.attempt("GET", "/health")
        except Exception as exc:  # noqa: BLE001 - check() reports, it does not raise
            return HealthResult(False, f"connection failed ({type(exc).__name__})")
        response.close()  # the status is the answer; the body is never read
        status = response.status_code
        if status < 300:
            return HealthResult(True, f"HTTP {status}")
        if status < 400:
            return HealthResult(False, f"redirected (HTTP {status}); redirects are not followed")
        if status in (401, 403):
            return HealthResult(False, f"token rejected (HTTP {status})")
        if status >= 500:
            return HealthResult(False, f"server error (HTTP {status})")
        return HealthResult(False, f"unexpected answer (HTTP {status})")

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> RestConnector:
        """A connector whose API is the in-memory ``ExampleApi`` serving these persons as one page."""
        session = requests.Session()
        session.mount(EXAMPLE_BASE_URL, ExampleApi(persons))
        return cls(RestConfig(base_url=EXAMPLE_BASE_URL, token=SecretStr("example-token"), max_retries=0), session=session)


def _configured(session: requests.Session, config: RestConfig) -> requests.Session:
    """The session with the source's own proxy and certificate store, the only ones it uses
    (the environment's are ignored: rest_http)."""
    if config.proxy:
        session.proxies = {"http": config.proxy, "https": config.proxy}
    if config.ca_bundle:
        session.verify = str(config.ca_bundle)
    return session


def _over_limit(limit: str, option: str) -> str:
    return f"GET /cases: the API has more than the limit of {limit} (option {option}); pull refused, nothing stored"


def _encoded_summaries(summaries: Sequence[Mapping[str, Any]]) -> tuple[list[bytes], tuple[int, ...]]:
    """Each summary as UTF-8 JSON, and the positions of those that cannot be written as UTF-8.

    Text that is not Unicode (a lone surrogate) is a flaw of that one summary: refusing it alone
    keeps it from holding up the rest. A summary that is not JSON at all is the caller's mistake
    and raises, as before.
    """
    encoded: list[bytes] = []
    refused: list[int] = []
    for position, summary in enumerate(summaries):
        try:
            text = json.dumps(summary, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise BadInputError(f"POST /summaries: summary {position + 1} is not JSON-ready") from None
        if is_unicode(text):
            encoded.append(text.encode("utf-8"))
        else:
            log.warning("POST /summaries: summary %d not sent: %s", position + 1, NOT_UNICODE)
            refused.append(position)
    return encoded, tuple(refused)


def _json_body(body: bytes, where: str) -> Any:
    """The parsed body; JSON between systems is UTF-8 (RFC 8259), which ``json.loads`` detects."""
    try:
        return json.loads(body)
    except ValueError:
        raise BadInputError(f"{where}: response is not JSON") from None
    except RecursionError:  # JSON nested deeper than Python's parser can follow
        raise BadInputError(f"{where}: response is nested too deeply") from None
