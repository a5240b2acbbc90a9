"""The web application's local accounts: added, disabled and listed by the operator (`kim-hub users`).

An account has one role and the bodies (``--org``: source names) and districts it is granted; the
web application shows a user only what its role and grant allow (``web.scope``). The password is
stored as an argon2id hash (argon2-cffi's defaults, which carry their parameters and salt), never
in clear and never as a command-line argument. Adding and disabling are admin entries of the audit
log, in the name of whoever ran the command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kim_hub.core.access import Actor
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.web_accounts import WebUser, all_users, end_sessions, user_by_name
from kim_hub.pipeline.audit import record_admin
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import WEB_ROLES, HubHome, check_source_name

ROLES = WEB_ROLES
MIN_PASSWORD = 12
DISTRICT_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")

EXTERNAL_ACCOUNT_PREFIX = "oidc-"  # accounts of the OpenID provider's users (pipeline.web_sessions)
EXTERNAL_PASSWORD_HASH = "!oidc"  # not an argon2 hash: no password ever matches it

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password of any account")  # verified against when the account is unknown


@dataclass(frozen=True)
class Account:
    """An account as the web application sees it: who, in which role, granted what."""

    name: str
    role: str
    organisations: tuple[str, ...]
    districts: tuple[str, ...]
    disabled: bool = False

    @property
    def actor(self) -> Actor:
        """The audit log's actor: ``web:<name>``."""
        return Actor("web", self.name)

    def context(self) -> dict[str, object]:
        """What every audit entry of this user's adds: role and grant, no content."""
        return {"role": self.role, "organisations": list(self.organisations), "districts": list(self.districts)}


def account_of(user: WebUser) -> Account:
    return Account(user.name, user.role, tuple(user.organisations), tuple(user.districts), user.disabled)


def add_user(
    home: HubHome, name: str, role: str, password: str, organisations: Sequence[str] = (), districts: Sequence[str] = ()
) -> Account:
    """A new account. Refused: a name already taken or not an actor's name, an unknown role, a
    body that is not a source name, a provider without exactly one body, a short password."""
    Actor("web", name)  # the same narrow alphabet as every actor of the audit log
    if name.startswith(EXTERNAL_ACCOUNT_PREFIX):
        raise ConfigError(f"a local account's name must not begin with {EXTERNAL_ACCOUNT_PREFIX} (the provider's users)")
    if role not in ROLES:
        raise ConfigError(f"--role must be one of {', '.join(ROLES)}")
    for body in organisations:
        check_source_name(body, "--org")
    if any(not DISTRICT_CODE.fullmatch(code) for code in districts):
        raise ConfigError("--district is a district code: letters, digits, _ and -")
    if role == "provider" and len(set(organisations)) != 1:
        raise ConfigError("a provider account needs exactly one --org: the body whose receipts it reads")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            if user_by_name(session, name) is not None:
                raise ConfigError("an account of this name exists already")
            user = WebUser(
                name=name,
                role=role,
                organisations=sorted(set(organisations)),
                districts=sorted(set(districts)),
                password_hash=_HASHER.hash(password),
                disabled=False,
            )
            session.add(user)
            session.flush()
            account = account_of(user)
        record_admin(sessions, "users.add", {"user": name, **account.context()})
    return account


def disable_user(home: HubHome, name: str) -> None:
    """The account can no longer sign in, and its open sessions end at once."""
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session, session.begin():
            user = user_by_name(session, name)
            if user is None:
                raise ConfigError("no account of this name")
            user.disabled = True
            end_sessions(session, user.id)
        record_admin(sessions, "users.disable", {"user": name})


def list_users(home: HubHome) -> list[Account]:
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session:
        return [account_of(user) for user in all_users(session)]


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Does the password match the hash? Without a hash (an unknown account) a dummy one is
    verified all the same, so the answer takes as long either way."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
