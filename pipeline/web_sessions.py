"""Signing in and out of the web application, and the session a request's cookie stands for.

The cookie holds a random id (32 bytes, ``secrets``); the database holds only its SHA-256, so a
copy of the table signs nobody in. A session ends after ``IDLE`` without a request and, in any
case, ``ABSOLUTE`` after it began. Each session has a synchronizer token that every form carries
back (``web.csrf``). Failed sign-ins are counted per account and per address (both as hashes) and
more than ``MAX_FAILURES_PER_ACCOUNT`` / ``MAX_FAILURES_PER_ADDRESS`` within ``FAILURE_WINDOW``
refuse further attempts, with the same answer as a wrong password: the caller learns nothing
about which accounts exist. Sign-in, sign-out and a refused sign-in are admin entries of the
audit log (a refused one without the name tried: it may be a typo of someone's password).

An account with a second factor (``pipeline.web_totp``) signs in in two steps: ``password_step``
then ``code_step``. A wrong or reused code is a failed sign-in like a wrong password.

Sign-in through the OpenID provider (``pipeline.web_oidc``) ends in ``sign_in_external``: the same
kind of session, so roles, grants, timeouts, form tokens and the audit log work unchanged. Its
account is named ``oidc-`` + the first 32 hex digits of SHA-256(issuer, subject): never the
e-mail address or name, and nothing else of the person is stored. Role and grant are the claims'
of the latest sign-in; an operator may disable such an account like any other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kim_hub.hub_db.keystore import load_totp_key
from kim_hub.hub_db.web_accounts import (
    WebSession,
    WebUser,
    add_failure,
    advance_step,
    clear_failures,
    failures_since,
    prune_failures,
    second_factor_of,
    second_factors_exist,
    session_by_hash,
    user_by_name,
)
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.oidc_claims import ClaimsGrant
from kim_hub.pipeline.web_totp import PendingCode, accepted_step, open_secret
from kim_hub.pipeline.web_users import EXTERNAL_ACCOUNT_PREFIX, EXTERNAL_PASSWORD_HASH, Account, account_of, password_matches

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=10)
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True)
class SignedIn:
    """A request's session: the account and the token its forms must carry."""

    account: Account
    csrf_token: str


@dataclass(frozen=True)
class NewSession:
    """What sign-in hands the browser: the cookie's id (shown once, stored only as a hash) and the session."""

    cookie: str
    signed_in: SignedIn


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def sign_in(home: HubHome, name: str, password: str, address: str, now: dt.datetime | None = None) -> NewSession | None:
    """A new session if the password alone signs the account in (``password_step``); None
    otherwise, an account with a second factor included."""
    outcome = password_step(home, name, password, address, now)
    return outcome if isinstance(outcome, NewSession) else None


def password_step(
    home: HubHome, name: str, password: str, address: str, now: dt.datetime | None = None
) -> NewSession | PendingCode | None:
    """The first step of a sign-in. A new session if the account exists, is enabled, is not rate
    limited, the password matches and the account has no second factor. A ``PendingCode`` (the
    code step comes next) if the account has one, and, once any account of the installation has
    one, also for every failure: the code step then fails whatever the code, so reaching it tells
    nothing about the account or its password. Otherwise (no second factors anywhere) None on
    failure, whichever check failed. A failure is counted and audited here, once."""
    moment = now or _now()
    subjects = _subjects(name, address)
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            prune_failures(session, moment - FAILURE_WINDOW)
            limited = _limited(session, subjects, moment)
            user = user_by_name(session, name)
            matches = password_matches(user.password_hash if user else None, password)  # always verified: same time
            outcome: NewSession | PendingCode | None
            if limited or user is None or user.disabled or not matches:
                if not limited:
                    add_failure(session, subjects, moment)
                outcome = PendingCode(name, address, None) if second_factors_exist(session) else None
            elif second_factor_of(session, user.id) is not None:
                return PendingCode(name, address, user.id)  # nothing to audit before the code
            else:
                clear_failures(session, subjects[0])
                outcome = _new_session(session, user, moment)
        if not isinstance(outcome, NewSession):
            record_admin(sessions, "web.sign_in_refused", {"rate_limited": limited})
            return outcome
    with open_sessions(home, config, outcome.signed_in.account.actor) as sessions:
        record_admin(sessions, "web.sign_in", outcome.signed_in.account.context())
    return outcome


def code_step(home: HubHome, pending: PendingCode, code: str, now: dt.datetime | None = None) -> NewSession | None:
    """The second step: a new session if the password step succeeded and ``code`` is the account's
    current one, never accepted before. A wrong or reused code is a failed sign-in like a wrong
    password (counted for the rate limit, audited); a failed password step fails here without
    being counted twice."""
    if pending.user_id is None:
        return None
    moment = now or _now()
    subjects = _subjects(pending.name, pending.address)
    config = home.load_config()
    key = load_totp_key(home.key_dir(config))
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            limited = _limited(session, subjects, moment)
            user = session.get(WebUser, pending.user_id)
            factor = second_factor_of(session, pending.user_id)
            secret = open_secret(key, user.name, factor.sealed_secret) if user and factor else None
            step = accepted_step(secret, code, factor.last_step, moment.timestamp()) if secret and factor else None
            created: NewSession | None = None
            if limited or user is None or user.disabled or step is None or not advance_step(session, user.id, step):
                if not limited:
                    add_failure(session, subjects, moment)
            else:
                clear_failures(session, subjects[0])
                created = _new_session(session, user, moment)
        if created is None:
            record_admin(sessions, "web.sign_in_refused", {"rate_limited": limited, "step": "code"})
            return None
    with open_sessions(home, config, created.signed_in.account.actor) as sessions:
        record_admin(sessions, "web.sign_in", {**created.signed_in.account.context(), "second_factor": "totp"})
    return created


def _subjects(name: str, address: str) -> tuple[str, str]:
    """What failures are counted by: the account and the address, as hashes."""
    return _digest(f"account:{name}"), _digest(f"address:{address}")


def _limited(session: Session, subjects: tuple[str, str], moment: dt.datetime) -> bool:
    return (
        failures_since(session, subjects[0], moment - FAILURE_WINDOW) >= MAX_FAILURES_PER_ACCOUNT
        or failures_since(session, subjects[1], moment - FAILURE_WINDOW) >= MAX_FAILURES_PER_ADDRESS
    )


def _new_session(session: Session, user: WebUser, moment: dt.datetime) -> NewSession:
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(cookie), user_id=user.id, csrf_token=csrf, created_at=moment, last_seen_at=moment))
    return NewSession(cookie, SignedIn(account_of(user), csrf))


def external_account_name(issuer: str, subject: str) -> str:
    """The account of a provider's user: by issuer and subject (``sub``), as a hash."""
    return EXTERNAL_ACCOUNT_PREFIX + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:32]


def sign_in_external(
    home: HubHome, issuer: str, subject: str, grant: ClaimsGrant, now: dt.datetime | None = None
) -> NewSession | None:
    """A new session for the provider's user, whose ID token was validated and whose claims
    granted ``grant``; its account is made or brought up to the grant. None if an operator
    disabled the account (audited as a refused sign-in)."""
    moment = now or _now()
    name = external_account_name(issuer, subject)
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            user = user_by_name(session, name)
            if user is None:
                user = WebUser(name=name, password_hash=EXTERNAL_PASSWORD_HASH, disabled=False)
                session.add(user)
            if not user.disabled:
                user.role = grant.role
                user.organisations = list(grant.organisations)
                user.districts = list(grant.districts)
                session.flush()
                cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
                session.add(
                    WebSession(
                        token_hash=_digest(cookie), user_id=user.id, csrf_token=csrf, created_at=moment, last_seen_at=moment
                    )
                )
                created: NewSession | None = NewSession(cookie, SignedIn(account_of(user), csrf))
            else:
                created = None
        if created is None:
            record_admin(sessions, "web.sign_in_refused", {"via": "oidc", "reason": "disabled"})
            return None
    with open_sessions(home, config, created.signed_in.account.actor) as sessions:
        record_admin(sessions, "web.sign_in", {**created.signed_in.account.context(), "via": "oidc"})
    return created


def refuse_external(home: HubHome, reason: str) -> None:
    """A refused sign-in through the provider, in the audit log: why, by kind; never who."""
    with open_sessions(home) as sessions:
        record_admin(sessions, "web.sign_in_refused", {"via": "oidc", "reason": reason})


def current(home: HubHome, cookie: str | None, now: dt.datetime | None = None) -> SignedIn | None:
    """The session the cookie stands for, if it has not timed out and its account is enabled;
    it counts as used now. An expired session is removed."""
    if not cookie:
        return None
    moment = now or _now()
    with open_sessions(home) as sessions, sessions() as session, session.begin():
        found = session_by_hash(session, _digest(cookie))
        if found is None:
            return None
        stored, user = found
        expired = moment - _aware(stored.last_seen_at) > IDLE or moment - _aware(stored.created_at) > ABSOLUTE
        if expired or user.disabled:
            session.delete(stored)
            return None
        stored.last_seen_at = moment
        return SignedIn(account_of(user), stored.csrf_token)


def sign_out(home: HubHome, cookie: str | None) -> None:
    """The cookie's session ends (nothing if there is none)."""
    if not cookie:
        return
    with open_sessions(home) as sessions, sessions() as session, session.begin():
        found = session_by_hash(session, _digest(cookie))
        if found is None:
            return
        session.delete(found[0])
        account = account_of(found[1])
    with open_sessions(home, None, account.actor) as sessions:
        record_admin(sessions, "web.sign_out", account.context())
