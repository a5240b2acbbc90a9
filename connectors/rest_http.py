"""HTTP for the REST connector: one request, the retry policy, and errors an operator can act on.

Retried, with exponential backoff and jitter or the server's ``Retry-After`` (capped): HTTP 429,
502, 503, 504, connection errors and timeouts. Everything else is final and lands in the hub's
error tree, grouped by what the operator has to do:

    3xx                 ConfigError     redirected: never followed; check base_url
    401, 403            ConfigError     token rejected
    404, 405            ConfigError     wrong base_url (no such endpoint)
    TLS failure         ConfigError     certificate or TLS setup
    body over the limit BadInputError   a response larger than ``max_response_bytes``
    other non-2xx       BadInputError   the provider API refused or failed this request
    retries exhausted   TransientError  the Prefect task's retry_condition retries it later

Where data and the token go is decided by the configuration alone. Redirects are not followed:
requests re-sends a POST body on 307/308, so one redirect would hand the summaries to another
host; and a redirect's target is dropped on arrival, because requests otherwise reads the whole
body of a redirect it does not follow (to prepare ``Response.next``), past any limit. The session does not trust the environment (``trust_env``): otherwise proxy variables would
route the traffic, ``~/.netrc`` would replace the bearer token with its own login, and
``REQUESTS_CA_BUNDLE`` would choose which certificates to trust. A body is streamed and read only
up to its limit, so an API cannot fill the hub's memory.

Messages name method, path and status only: never the token, the query string, a redirect's
Location or the response body (which may echo personal data). Errors are raised ``from None``
because a requests exception keeps the prepared request, Authorization header included, in its
``request`` attribute.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests
from pydantic import SecretStr

from kim_hub.core.errors import BadInputError, ConfigError, HubError, TransientError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Network failures worth another try; SSLError is a ConnectionError too but is handled first.
_RETRY_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; see ``RestConfig`` for the meaning of each field."""

    max_retries: int
    backoff_seconds: float
    max_backoff_seconds: float

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": between half and all of ``base·2^retry``, capped.

        The jitter spreads clients that failed together; the lower half keeps a real pause.
        """
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2.0**retry)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Limits:
    """How long one request may take and how large its answer may be; see ``RestConfig``."""

    timeout_seconds: float
    max_response_bytes: int


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def final_error(status: int, where: str) -> HubError:
    """The exception for a non-retryable, non-2xx answer."""
    if 300 <= status < 400:
        return ConfigError(f"{where}: redirected (HTTP {status}); redirects are not followed, check base_url")
    if status in (401, 403):
        return ConfigError(f"{where}: token rejected (HTTP {status})")
    if status in (404, 405):
        return ConfigError(f"{where}: no such endpoint (HTTP {status}); check base_url")
    return BadInputError(f"{where}: provider API answered HTTP {status}")


def _drop_redirect_target(response: requests.Response, *args: object, **kwargs: object) -> None:
    """A response hook: forget where a 3xx points before requests looks (see the module docstring)."""
    if response.is_redirect:
        del response.headers["Location"]


def limited_body(response: requests.Response, limit: int, where: str) -> bytes:
    """The body of a streamed response, refused as soon as it passes ``limit`` bytes.

    Reading stops there (at most one chunk beyond), so an endless or oversized answer costs the
    hub no more memory than the limit. The reason names the limit and its option, never content.
    """
    chunks: list[bytes] = []
    size = 0
    with response:  # the connection goes back to the pool however this ends
        for chunk in response.iter_content(_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise BadInputError(f"{where}: response is larger than the limit of {limit} bytes (option max_response_bytes)")
            chunks.append(chunk)
    return b"".join(chunks)


class HttpClient:
    """Sends requests to one provider API with its bearer token and the retry policy.

    ``session`` and ``sleep`` are injected so tests mock the network and do not wait. Whatever
    session is given stops trusting the environment (see the module docstring).
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        limits: Limits,
        policy: RetryPolicy,
        session: requests.Session,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.limits = limits
        self.policy = policy
        session.trust_env = False
        self.session = session
        self.sleep = sleep
        self.rng = rng

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r})"

    def attempt(
        self, method: str, path: str, params: Mapping[str, str | int] | None = None, body: bytes | None = None
    ) -> requests.Response:
        """One request, no retries, no redirects; the body is left unread (streamed) for the caller
        to read within the limit, or to close. requests exceptions propagate: callers must not
        chain them."""
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.session.request(
            method,
            self.base_url + path,
            params=params,
            data=body,
            headers=headers,
            timeout=self.limits.timeout_seconds,
            allow_redirects=False,
            hooks={"response": [_drop_redirect_target]},
            stream=True,
        )

    def send(self, method: str, path: str, params: Mapping[str, str | int] | None = None, body: bytes | None = None) -> bytes:
        """A request under the retry policy; returns the body of a 2xx answer or raises a HubError.

        The body is read inside the retry loop, so a connection lost while it streams in is
        retried like one lost before the answer began."""
        where = f"{method} {path}"
        attempts = self.policy.max_retries + 1
        problem = "no attempt made"
        for retry in range(attempts):
            try:
                response = self.attempt(method, path, params, body)
                if response.status_code < 300:
                    return limited_body(response, self.limits.max_response_bytes, where)
            except requests.exceptions.SSLError:
                raise ConfigError(f"{where}: TLS connection failed; check the certificate setup") from None
            except _RETRY_EXCEPTIONS as exc:
                problem = f"connection failed ({type(exc).__name__})"
                delay = self.policy.backoff(retry, self.rng)
            except requests.RequestException as exc:
                raise ConfigError(f"{where}: request could not be sent ({type(exc).__name__})") from None
            else:
                response.close()  # an error's body is never read: it may echo personal data
                if response.status_code not in RETRY_STATUSES:
                    raise final_error(response.status_code, where)
                problem = f"HTTP {response.status_code}"
                waited = retry_after_seconds(response.headers.get("Retry-After"))
                delay = self.policy.backoff(retry, self.rng) if waited is None else waited
            if retry + 1 == attempts:
                break
            delay = min(delay, self.policy.max_backoff_seconds)
            log.warning("%s: %s; retry %d of %d in %.1f s", where, problem, retry + 1, self.policy.max_retries, delay)
            self.sleep(delay)
        raise TransientError(f"{where}: {problem}; gave up after {attempts} attempts")
