"""Sign-in through the installation's OpenID provider: the authorization code flow with PKCE
(S256), state and nonce, with authlib's OAuth 2.0 client and OpenID Connect claims rules.

* Discovery: ``<issuer>/.well-known/openid-configuration``; the document's ``issuer`` must be
  the configured one exactly (else a mix-up with another provider).
* ``begin``: a fresh state, nonce and code verifier per sign-in (``secrets``), kept server-side
  (``PendingSignIns``, in this process's memory, ten minutes, once) under the SHA-256 of a random
  id that the browser holds in a short-lived HttpOnly cookie. Nothing of them is in the cookie.
* ``finish``: the callback's state must be the pending one and its ``iss`` (RFC 9207), when
  given, the issuer; the code is exchanged with the verifier; the ID token's signature is checked
  against the provider's JWKS (asymmetric algorithms only), then iss, aud, exp, iat, nonce, azp
  and at_hash (authlib's ``CodeIDToken``). Only then are its claims returned.

* ``end_session_url``: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). Signing out
  of a session that came from the provider also ends the provider's session: the browser goes on
  to the discovery document's ``end_session_endpoint`` with the ID token of the sign-in as
  ``id_token_hint``, ``client_id`` and ``post_logout_redirect_uri`` (this application's
  ``/sign-in``, next to the callback; register it at the provider). The ID token is kept only in
  this process's memory (``IdTokens``), by the SHA-256 of the session's cookie, until sign-out or
  the session's absolute limit: the database stores nothing more of the provider's user. After a
  restart the hint is missing and the provider asks the user to confirm instead.

Every failure raises a ``HubError`` whose message names the step, never a value from the
provider: ``web.routes_oidc`` answers all of them with the same page.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from kim_hub.core.errors import BadInputError, ConfigError, TransientError
from kim_hub.pipeline.home import OIDC_CALLBACK_PATH, HubHome, OidcConfig
from kim_hub.pipeline.pending_sign_ins import MAX_PENDING, PendingByCookie

TIMEOUT = 10.0
PENDING_SECONDS = 600
LEEWAY_SECONDS = 60
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@dataclass(frozen=True)
class PendingSignIn:
    """One sign-in between leaving for the provider and coming back."""

    state: str
    nonce: str
    code_verifier: str
    started: float = field(default_factory=time.monotonic)


class PendingSignIns(PendingByCookie[PendingSignIn]):
    """The provider round trips this process waits for (``PENDING_SECONDS`` each, taken once)."""

    def __init__(self) -> None:
        super().__init__(PENDING_SECONDS)


class IdTokens:
    """The ID tokens of this process's sessions that came from the provider, by the SHA-256 of the
    session's cookie, for the logout's ``id_token_hint``; each kept until taken at sign-out or for
    ``keep_seconds`` (the session's absolute limit), the oldest going when there are too many."""

    def __init__(self, keep_seconds: float) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._keep = keep_seconds
        self._lock = threading.Lock()

    def add(self, session_cookie: str, id_token: str) -> None:
        with self._lock:
            now = time.monotonic()
            for key in [k for k, (_, added) in self._tokens.items() if now - added > self._keep]:
                del self._tokens[key]
            while len(self._tokens) >= MAX_PENDING:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[_digest(session_cookie)] = (id_token, now)

    def take(self, session_cookie: str | None) -> str | None:
        if not session_cookie:
            return None
        with self._lock:
            found = self._tokens.pop(_digest(session_cookie), None)
        return found[0] if found and time.monotonic() - found[1] <= self._keep else None


def post_logout_url(config: OidcConfig) -> str:
    """Where the provider sends the browser after the logout: this application's sign-in page."""
    return config.redirect_url.removesuffix(OIDC_CALLBACK_PATH) + "/sign-in"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def client_secret(home: HubHome, config: OidcConfig) -> str | None:
    """The client secret: the environment variable, else the file under the key folder (owner
    only: mode 0600 or stricter). None for a public client."""
    if config.public_client:
        return None
    secret = os.environ.get(config.client_secret_env, "").strip()
    if secret:
        return secret
    path = home.key_dir(home.load_config()) / config.client_secret_file
    if not path.is_file():
        raise ConfigError(
            f"web.oidc: no client secret (set {config.client_secret_env} or write keys/{config.client_secret_file}, mode 0600)"
        )
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"web.oidc: keys/{config.client_secret_file} must be readable by its owner only (chmod 600)")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ConfigError(f"web.oidc: keys/{config.client_secret_file} is empty")
    return secret


class OidcSignIn:
    """The relying party of one configured provider. ``http`` is the I/O seam (tests may pass
    their own session); the discovery document is fetched once per instance."""

    def __init__(self, config: OidcConfig, secret: str | None, http: requests.Session | None = None) -> None:
        self.config = config
        self._secret = secret
        self._http = http or requests.Session()
        self._metadata: dict[str, Any] | None = None

    def _get(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError):
            raise TransientError(f"the OpenID provider's {what} could not be read") from None
        if not isinstance(document, dict):
            raise TransientError(f"the OpenID provider's {what} is not a JSON object")
        return document

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            found = self._get(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document")
            if found.get("issuer") != self.config.issuer:
                raise ConfigError("web.oidc.issuer is not the issuer the provider's discovery document names")
            if not all(isinstance(found.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
                raise TransientError("the OpenID provider's discovery document lacks an endpoint")
            self._metadata = found
        return self._metadata

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self._secret,
            scope=" ".join(self.config.scopes),
            redirect_uri=self.config.redirect_url,
            code_challenge_method="S256",
            default_timeout=TIMEOUT,
        )

    def begin(self) -> tuple[str, PendingSignIn]:
        """The provider's address to send the browser to, and what the callback must match."""
        pending = PendingSignIn(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        return str(url), pending

    def end_session_url(self, id_token: str | None) -> str | None:
        """The provider's logout address for a session signed in with ``id_token`` (None: not
        known any more, the provider then asks); None if the provider offers no logout."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return None
        query = {"client_id": self.config.client_id, "post_logout_redirect_uri": post_logout_url(self.config)}
        if id_token:
            query["id_token_hint"] = id_token
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)

    def finish(self, pending: PendingSignIn, answer: Mapping[str, str]) -> dict[str, object]:
        """The validated ID token's claims for the provider's answer to ``pending``."""
        return self.finish_with_token(pending, answer)[0]

    def finish_with_token(self, pending: PendingSignIn, answer: Mapping[str, str]) -> tuple[dict[str, object], str]:
        """The validated ID token's claims, and the ID token itself (the logout's hint)."""
        state, code = answer.get("state"), answer.get("code")
        if "error" in answer or not code or not isinstance(state, str) or not secrets.compare_digest(state, pending.state):
            raise BadInputError("the provider's answer does not belong to this sign-in")
        if "iss" in answer and answer["iss"] != self.config.issuer:
            raise BadInputError("the provider's answer names another issuer")
        metadata = self.metadata()
        try:
            with self._client() as client:
                token = client.fetch_token(
                    metadata["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=pending.code_verifier
                )
        except (AuthlibBaseError, requests.RequestException, ValueError):  # the exchange failed, whichever way
            raise BadInputError("the provider refused to exchange the code") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise BadInputError("the provider's token answer has no ID token")
        return self._claims(id_token, pending.nonce, token.get("access_token")), id_token

    def _claims(self, id_token: str, nonce: str, access_token: object) -> dict[str, object]:
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in offered if alg in SIGNING_ALGORITHMS]
        keys = KeySet.import_key_set(self._get(self.metadata()["jwks_uri"], "key set"))  # type: ignore[arg-type]
        try:
            decoded = jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=algorithms, strict_check_header=False))
            params: dict[str, object] = {"nonce": nonce, "client_id": self.config.client_id}
            if isinstance(access_token, str):
                params["access_token"] = access_token
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.config.issuer},
                    "aud": {"essential": True, "value": self.config.client_id},
                    "exp": {"essential": True},
                    "sub": {"essential": True},
                },
                params,
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError):
            raise BadInputError("the ID token is not valid for this sign-in") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise BadInputError("the ID token names no subject")
        return dict(claims)
