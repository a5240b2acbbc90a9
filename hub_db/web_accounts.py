"""The web application's accounts, sessions and failed sign-ins as stored (rules: ``pipeline.web_users``
and ``pipeline.web_sessions``).

Nothing here is about the persons of the index: an account is an employee of a body or of the
municipality. A session is stored by the SHA-256 of its cookie's id, so the table alone signs
nobody in; a failed sign-in by a hash of the account name or the address it came from; a second
factor by its secret sealed under a key the database does not hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import SignInFailure, WebSecondFactor, WebSession, WebUser

__all__ = [
    "SignInFailure",
    "WebSecondFactor",
    "WebSession",
    "WebUser",
    "add_failure",
    "advance_step",
    "all_users",
    "clear_failures",
    "end_sessions",
    "enrolled_names",
    "failures_since",
    "prune_failures",
    "second_factor_of",
    "second_factors_exist",
    "session_by_hash",
    "user_by_name",
]


def user_by_name(session: Session, name: str) -> WebUser | None:
    return session.execute(select(WebUser).where(WebUser.name == name)).scalar_one_or_none()


def all_users(session: Session) -> Sequence[WebUser]:
    return session.execute(select(WebUser).order_by(WebUser.name)).scalars().all()


def session_by_hash(session: Session, token_hash: str) -> tuple[WebSession, WebUser] | None:
    found = session.execute(
        select(WebSession, WebUser).join(WebUser, WebUser.id == WebSession.user_id).where(WebSession.token_hash == token_hash)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def end_sessions(session: Session, user_id: int) -> None:
    """Every session of the account ends (it was disabled)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def failures_since(session: Session, subject: str, since: dt.datetime) -> int:
    query = select(func.count()).select_from(SignInFailure).where(SignInFailure.subject == subject, SignInFailure.at >= since)
    return int(session.execute(query).scalar_one())


def add_failure(session: Session, subjects: Sequence[str], at: dt.datetime) -> None:
    session.add_all(SignInFailure(subject=subject, at=at) for subject in subjects)


def clear_failures(session: Session, subject: str) -> None:
    """Forget an account's failures: it signed in."""
    session.execute(delete(SignInFailure).where(SignInFailure.subject == subject))


def prune_failures(session: Session, before: dt.datetime) -> None:
    """Forget every failure older than the window the limit looks at."""
    session.execute(delete(SignInFailure).where(SignInFailure.at < before))


def second_factor_of(session: Session, user_id: int) -> WebSecondFactor | None:
    return session.get(WebSecondFactor, user_id)


def second_factors_exist(session: Session) -> bool:
    """Has any account a second factor? (Then every sign-in not completed by its password alone
    goes on to the code step, so that step tells nothing about the account or its password.)"""
    return session.execute(select(WebSecondFactor.user_id).limit(1)).first() is not None


def advance_step(session: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as the account's last accepted code, if it is later than the one recorded:
    one conditional UPDATE, so of two sign-ins racing with the same code only one wins."""
    moved = session.execute(
        update(WebSecondFactor)
        .where(WebSecondFactor.user_id == user_id, or_(WebSecondFactor.last_step.is_(None), WebSecondFactor.last_step < step))
        .values(last_step=step)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def enrolled_names(session: Session) -> Sequence[str]:
    """The names of the accounts with a second factor."""
    return session.execute(select(WebUser.name).join(WebSecondFactor, WebSecondFactor.user_id == WebUser.id)).scalars().all()
