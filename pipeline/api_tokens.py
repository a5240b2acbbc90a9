"""The providers' API tokens: issued per body with the operations it may call, shown once, stored
only as a hash; expiry, revocation and rotation with an overlap (`kim-hub tokens`).

A token is ``kimh_`` and 43 characters of ``secrets.token_urlsafe(32)`` (256 random bits). The
database keeps its SHA-256: a slow hash such as argon2 protects guessable passwords, and nothing
can guess 256 random bits, while every API call looks its token up. A token acts for one body
(a source name: the body the web application's provider role names by its ``--org``) and only
for the operations of its scopes:

    deliver    POST /api/v1/sources/{source}/deliveries
    receipts   GET  /api/v1/sources/{source}/receipts[/{id}]
    collect    the body's summaries and their acknowledgements (pipeline.api_collect)

Issuing, revoking and rotating are admin entries of the audit log in the name of whoever ran the
command; the token itself is in no entry, no log and no listing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.api_tokens import ApiToken, all_tokens, token_by_hash
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome, check_source_name

SCOPES = ("deliver", "receipts", "collect")
TOKEN_PREFIX = "kimh_"
TOKEN_SHAPE = re.compile(r"kimh_[A-Za-z0-9_-]{43}")
DURATION = re.compile(r"([1-9][0-9]{0,4})([dh])")
MAX_LIFETIME = dt.timedelta(days=730)  # a token lives at most two years: rotate before


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed and as a request carries it: never the token itself."""

    id: int
    body: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked: bool

    def state(self, now: dt.datetime) -> str:
        return "revoked" if self.revoked else "expired" if self.expires_at <= now else "active"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def duration(text: str, what: str) -> dt.timedelta:
    """``90d`` or ``12h`` as a timedelta (a ConfigError naming the form, not the value, otherwise)."""
    found = DURATION.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f"{what} is a number of days or hours: 90d, 12h")
    count, unit = int(found[1]), found[2]
    return dt.timedelta(days=count) if unit == "d" else dt.timedelta(hours=count)


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    if not wanted or not set(wanted) <= set(SCOPES):
        raise ConfigError(f"--scope is one or more of {', '.join(SCOPES)}, separated by commas")
    return wanted


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.body, tuple(row.scopes), _utc(row.created_at), _utc(row.expires_at), row.revoked_at is not None)


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes: the hub writes UTC only."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_token(home: HubHome, body: str, scopes: Sequence[str], lifetime: dt.timedelta) -> tuple[str, TokenInfo]:
    """A new token for a configured body; returns the token (to be shown once) and its listing."""
    config = home.load_config()
    if check_source_name(body, "--body") not in config.sources:
        raise ConfigError("--body names no source of hub.toml")
    wanted = check_scopes(scopes)
    if not dt.timedelta(hours=1) <= lifetime <= MAX_LIFETIME:
        raise ConfigError("--expires lies between 1h and 730d")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            now = _now()
            row = ApiToken(
                token_hash=token_hash(token), body=body, scopes=list(wanted), created_at=now, expires_at=now + lifetime
            )
            session.add(row)
            session.flush()
            info = _info(row)
        record_admin(sessions, "tokens.issue", {"token": info.id, "body": body, "scopes": list(wanted)})
    return token, info


def list_tokens(home: HubHome) -> list[TokenInfo]:
    with open_sessions(home) as sessions, sessions() as session:
        return [_info(row) for row in all_tokens(session)]


def revoke_token(home: HubHome, token_id: int) -> TokenInfo:
    """The token answers 401 from now on."""
    with open_sessions(home) as sessions:
        with sessions() as session, session.begin():
            row = session.get(ApiToken, token_id)
            if row is None:
                raise ConfigError("no token of this id")
            row.revoked_at = row.revoked_at or _now()
            info = _info(row)
        record_admin(sessions, "tokens.revoke", {"token": token_id, "body": info.body})
    return info


def rotate_token(home: HubHome, token_id: int, overlap: dt.timedelta) -> tuple[str, TokenInfo]:
    """A new token with the old one's body, scopes and lifetime; the old one expires after
    ``overlap`` (or when it would have anyway), so the body's software can switch without a gap."""
    with open_sessions(home) as sessions:
        with sessions() as session, session.begin():
            old = session.get(ApiToken, token_id)
            now = _now()
            if old is None or old.revoked_at is not None or _utc(old.expires_at) <= now:
                raise ConfigError("no active token of this id")
            if overlap > MAX_LIFETIME:
                raise ConfigError("--overlap is at most 730d")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            lifetime = max(_utc(old.expires_at) - _utc(old.created_at), dt.timedelta(hours=1))
            new = ApiToken(
                token_hash=token_hash(token), body=old.body, scopes=list(old.scopes), created_at=now, expires_at=now + lifetime
            )
            session.add(new)
            session.flush()
            old.expires_at = min(_utc(old.expires_at), now + overlap)
            old.replaced_by = new.id
            info = _info(new)
        record_admin(sessions, "tokens.rotate", {"token": token_id, "new_token": info.id, "body": info.body})
    return token, info


def authenticate(home: HubHome, presented: str | None) -> TokenInfo | None:
    """The active token a request presents (``Authorization: Bearer …``), else None: unknown,
    malformed, expired and revoked are one answer."""
    if presented is None or not TOKEN_SHAPE.fullmatch(presented):
        return None
    with open_sessions(home) as sessions, sessions() as session:
        row = token_by_hash(session, token_hash(presented))
        if row is None:
            return None
        info = _info(row)
    return info if info.state(_now()) == "active" else None
