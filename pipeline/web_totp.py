"""A local account's optional second factor: a time-based one-time password (TOTP, RFC 6238,
pyotp: six digits, 30-second steps, SHA-1, as every authenticator app reads an ``otpauth://`` URI).

* Enrolment (`kim-hub users totp NAME`): a random 160-bit secret, shown once as the URI and as
  base32 for typing; the database keeps it only sealed with AES-256-GCM under the key file
  ``web-totp.key`` in the key folder (0600, made at the first enrolment; ``hub_db.keystore``), the
  account's name bound in as associated data, so a copy of the database alone yields no secret and
  a sealed secret moved to another account does not open. `--remove` takes the factor away.
* A code is accepted for the current step and the one before and after (clocks drift), and only
  for a step later than the last accepted one: a code seen over a shoulder or replayed from a
  proxy's log is refused within its window.
* The sign-in's second step (``pipeline.web_sessions.password_step`` / ``code_step``) holds what
  the password step found in this process (``PendingCodes``: five minutes, taken once) under the
  SHA-256 of a random id the browser keeps in a cookie; nothing of it is in the cookie.

Enrolling and removing are admin entries of the audit log, in the name of whoever ran the command.
The provider's users (``oidc-`` accounts) have their second factor at the provider, not here.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass, field

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.keystore import create_totp_key, load_totp_key
from kim_hub.hub_db.web_accounts import WebSecondFactor, enrolled_names, second_factor_of, user_by_name
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.pending_sign_ins import PendingByCookie
from kim_hub.pipeline.web_users import EXTERNAL_ACCOUNT_PREFIX

ISSUER = "kim-hub"
SEALED_PREFIX = "gcm1-"
_CONTEXT = b"kim-hub/web-totp/v1\n"
VALID_WINDOW = 1  # steps before and after the current one
PENDING_SECONDS = 300


@dataclass(frozen=True)
class Enrolment:
    """What the operator hands the account's owner, once: the URI (for a QR code) and the secret."""

    uri: str
    secret: str


def seal_secret(key: bytes, account: str, secret: str) -> str:
    """The secret under AES-GCM with a fresh nonce, bound to the account's name."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("ascii"), _CONTEXT + account.encode("utf-8"))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_secret(key: bytes, account: str, sealed: str) -> str | None:
    """The secret, or None if it was sealed for another account or under another key, or altered."""
    try:
        raw = base64.urlsafe_b64decode(sealed.removeprefix(SEALED_PREFIX))
        return AESGCM(key).decrypt(raw[:12], raw[12:], _CONTEXT + account.encode("utf-8")).decode("ascii")
    except (InvalidTag, ValueError, binascii.Error):
        return None


def accepted_step(secret: str, code: str, after: int | None, now: float) -> int | None:
    """The time step ``code`` belongs to, if it is one of the window around ``now`` and later than
    ``after`` (the last accepted step); otherwise None."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # every step is compared (constant time each), so the answer's time tells nothing of which matched
        matches = secrets.compare_digest(totp.generate_otp(step), code)
        if matches and (after is None or step > after):
            return step
    return None


def enrol(home: HubHome, name: str) -> Enrolment:
    """A new second factor for the local account ``name``. Refused: no such account, one of the
    provider's, or one that has a second factor already (remove it first: a lost phone)."""
    if name.startswith(EXTERNAL_ACCOUNT_PREFIX):
        raise ConfigError("the provider's users sign in with the provider's second factor, not the hub's")
    config = home.load_config()
    key_dir = home.key_dir(config)
    create_totp_key(key_dir)
    key = load_totp_key(key_dir)
    secret = pyotp.random_base32()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            user = user_by_name(session, name)
            if user is None:
                raise ConfigError("no account of this name")
            if second_factor_of(session, user.id) is not None:
                raise ConfigError("this account has a second factor already: remove it first (--remove)")
            session.add(WebSecondFactor(user_id=user.id, sealed_secret=seal_secret(key, name, secret), last_step=None))
        record_admin(sessions, "users.totp_enrol", {"user": name})
    return Enrolment(pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER), secret)


def remove(home: HubHome, name: str) -> None:
    """The account signs in with its password alone again."""
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            user = user_by_name(session, name)
            factor = second_factor_of(session, user.id) if user is not None else None
            if factor is None:
                raise ConfigError("no account of this name with a second factor")
            session.delete(factor)
        record_admin(sessions, "users.totp_remove", {"user": name})


def enrolled(home: HubHome) -> frozenset[str]:
    """The names of the accounts that have a second factor (for `kim-hub users list`)."""
    with open_sessions(home) as sessions, sessions() as session:
        return frozenset(enrolled_names(session))


@dataclass(frozen=True)
class PendingCode:
    """A sign-in between its password step and its code step. ``user_id`` is None when the password
    step failed already (counted and audited then): its code step fails whatever the code."""

    name: str
    address: str
    user_id: int | None
    started: float = field(default_factory=time.monotonic)


class PendingCodes(PendingByCookie[PendingCode]):
    """The sign-ins of this process waiting for their code (``PENDING_SECONDS`` each, taken once)."""

    def __init__(self) -> None:
        super().__init__(PENDING_SECONDS)
