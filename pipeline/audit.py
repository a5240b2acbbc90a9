"""The audit log as a service: reads and admin actions recorded, the log listed, verified, purged.

Storage and sealing are ``hub_db.audit_log``; writes that the log records (imports, transfers,
decisions, erasures) append their own entries in their own transactions. What is here:

* ``record_read``: every service that shows person-level data (links, review list, gaps,
  transitions, the report) records one entry in the ``read`` channel *before* it hands the data
  over: no entry, no data. Its purpose is the caller's (``Access``) or the service's default;
  with ``[audit] require_purpose`` the caller must name one.
* ``list_entries`` (itself an admin entry: reading the log shows who did what), also one
  controller's share of it (``--controller``: ``hub_db.audit_share``), ``verify_log``,
  ``purge_log`` (retention per channel, ``[audit.retention_days]``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.core.access import READ_PURPOSES, Access, Actor
from kim_hub.core.errors import ConfigError, TransientError
from kim_hub.hub_db.audit_chain import CHANNELS, INDEX_OBJECT, EntryContent
from kim_hub.hub_db.audit_log import AuditFilter, LogReport, append, auditor_of, entries, purge, verify
from kim_hub.hub_db.audit_share import Share, person_tokens
from kim_hub.hub_db.audit_share import whole_platform as about_platform
from kim_hub.hub_db.keystore import load_audit_key
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.pipeline.database import auditor_for, open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome, is_source_name
from kim_hub.pipeline.record_ids import RecordIdForms

__all__ = [
    "AuditFilter",
    "check_controller_named",
    "list_entries",
    "purge_log",
    "record_admin",
    "record_api_call",
    "record_read",
    "record_view",
    "verify_log",
    "whole_platform",
]

PSEUDONYM = re.compile(r"P-[0-9A-F]{12}")
ACTOR_FILTER = re.compile(r"(?:[a-z]+:)?[\w.@+-]{1,100}(?::[\w.-]{1,58})?")  # api:<body>:<token id> too
ACTION_FILTER = re.compile(r"[a-z_]+(?:\.[a-z_]+)*")
OBJECT_ID = re.compile(
    r"index|review:\d+|person:[0-9a-f]{32}|record:[a-z0-9][a-z0-9_-]{0,63}:(?:[0-9a-f]{32}|erased)"
    r"|file:[a-z0-9][a-z0-9_-]{0,63}:[0-9a-f]{64}"
)  # the forms hub_db.audit_chain makes: only tokens and hashes, so nothing typed in clear is looked up or logged
OBJECT_RULE = (
    "--object is SOURCE/RECORD_ID (a source's record), P-… (a person's pseudonym), or an object id "
    "as `kim-hub audit` shows it (record:…, person:…, file:…, review:…, index)"
)


def record_read(
    sessions: sessionmaker[Session],
    config: HubConfig,
    action: str,
    objects: Sequence[str],
    access: Access | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry in the read channel, committed before the caller hands the data over; its
    purpose is the caller's, else the action's default (``core.access.READ_PURPOSES``)."""
    access = access or Access()
    if access.purpose is None and config.audit.require_purpose:
        raise ConfigError("--purpose is required: [audit] require_purpose is set in hub.toml")
    purpose = access.purpose or READ_PURPOSES[action]
    try:
        with sessions() as session, session.begin():
            append(session, "read", action, objects, detail, purpose, access.case_ref)
    except OperationalError:  # SQLite: an import holds the write lock past the busy timeout
        raise TransientError("the database is busy, so the read could not be logged and nothing is shown") from None


def record_admin(sessions: sessionmaker[Session], action: str, detail: dict[str, Any] | None = None) -> None:
    """One entry in the admin channel, in a transaction of its own."""
    with sessions() as session, session.begin():
        append(session, "admin", action, (), detail)


def record_view(
    home: HubHome,
    actor: Actor,
    page: str,
    context: Mapping[str, Any],
    objects: Sequence[str] = (),
    detail: Mapping[str, Any] | None = None,
) -> None:
    """A page of the web application shown to ``actor`` that is not itself a read of person-level
    data (those are reads, by the service that shows them): an admin entry ``web.view`` naming the
    page, the user's role and grant (``context``) and the ids shown (``objects``), never content."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        append(session, "admin", "web.view", objects, {"page": page, **context, **(detail or {})})


def record_api_call(home: HubHome, actor: Actor, operation: str, detail: Mapping[str, Any], objects: Sequence[str] = ()) -> None:
    """One call of the providers' HTTP API: an admin entry ``api.call`` in the name of the body and
    token (``api:<body>:<token id>``, or ``api:unauthenticated`` for a call without a valid
    token), naming the operation, its answer's status and the deliveries it touched (by id)."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        append(session, "admin", "api.call", objects, {"operation": operation, **detail})


def list_entries(
    home: HubHome,
    wanted: AuditFilter,
    limit: int | None = 50,
    *,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[EntryContent]:
    """The log's entries that match, newest first. ``wanted.objects`` are as the operator names
    them (``OBJECT_RULE``); each becomes the object ids it stands for. The listing is an admin
    entry: the log shows employees' actions, and who looked at it is the DPO's question too
    (``actor``: who looks, default the user this process runs as; ``context``: what the entry
    adds about them, as the web application's auditor page passes it)."""
    if wanted.channel is not None and wanted.channel not in CHANNELS:
        raise ConfigError(f"--channel must be one of {', '.join(CHANNELS)}")
    if wanted.actor is not None and not ACTOR_FILTER.fullmatch(wanted.actor):
        raise ConfigError("--actor is kind:name (os:alice, api:caritas:3) or a name: letters, digits and . @ + - _")
    if wanted.action is not None and not ACTION_FILTER.fullmatch(wanted.action):
        raise ConfigError("--action is an action as listed (review.list) or its family (review): a-z, _ and dots")
    config = home.load_config()
    if wanted.controller is not None:
        check_controller_named(config, wanted.controller, "--controller")
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            forms = RecordIdForms.of(home, config)
            resolved = dataclasses.replace(
                wanted,
                objects=tuple(_objects_of(session, forms, wanted.objects)),
                share=_share_of(session, config, wanted.controller),
            )
            found = entries(session, resolved, limit)
        record_admin(sessions, "audit.list", {**(context or {}), "filter": _described(resolved), "entries": len(found)})
    return found


def check_controller_named(config: HubConfig, controller: str, option: str) -> None:
    """``controller`` must be declared under [controllers]; the message names the declared ones
    (never the value given) and says how to declare them when none is."""
    if controller in config.controllers:
        return
    if not config.controllers:
        raise ConfigError(
            f"{option}: no controller is declared in hub.toml: declare each under [controllers] and name it in each "
            "source (controller = …); docs/operations.md, 'Controllers and incidents'"
        )
    raise ConfigError(f"{option} must name a controller declared in hub.toml: {', '.join(config.controllers)}")


def _share_of(session: Session, config: HubConfig, controller: str | None) -> Share | None:
    """What ``controller`` answers for: its sources, and the tokens of the persons that currently
    have a record of them (streamed; one keyed hash per person)."""
    if controller is None:
        return None
    sources = frozenset(config.sources_of(controller))
    return Share(sources, person_tokens(session, sources, auditor_of(session).key))


def whole_platform(entry: EntryContent) -> bool:
    """Is the entry about the whole platform, part of every controller's share (``hub_db.audit_share``)?"""
    return about_platform(entry)


def _objects_of(session: Session, forms: RecordIdForms, typed: Sequence[str]) -> list[str]:
    """The object ids to look for: a record, its person and whole-index exports; a person, its
    records and whole-index exports; an object id as it is."""
    auditor = auditor_of(session)
    key, named = auditor.key, auditor.record_name
    found: list[str] = []
    for text in typed:
        if OBJECT_ID.fullmatch(text):
            found.append(text)
        elif PSEUDONYM.fullmatch(text):
            records = session.execute(
                select(SourceRecord.source, SourceRecord.record_id)
                .join(Link, Link.record_id == SourceRecord.id)
                .join(Person, Person.id == Link.person_id)
                .where(Person.pseudonym == text)
            ).all()
            found += [key.person(text), *(key.record(s, named(s, r)) for s, r in records), INDEX_OBJECT]
        elif "/" in text and is_source_name(text.split("/", 1)[0]) and text.split("/", 1)[1]:
            source, record_id = text.split("/", 1)
            stored = forms.stored(source, record_id)  # a body's number or its token, as the record is held
            person = session.execute(
                select(Person.pseudonym)
                .join(Link, Link.person_id == Person.id)
                .join(SourceRecord, SourceRecord.id == Link.record_id)
                .where(SourceRecord.source == source, SourceRecord.record_id == stored)
            ).scalar_one_or_none()
            record = key.record(source, named(source, stored))
            found += [record, *([key.person(person)] if person else []), INDEX_OBJECT]
        else:
            raise ConfigError(OBJECT_RULE)
    return list(dict.fromkeys(found))


def _described(wanted: AuditFilter) -> dict[str, Any]:
    """A filter as the admin entry records it: object ids (tokens), never what the operator typed."""
    return {
        name: value.isoformat() if isinstance(value, dt.datetime) else list(value) if isinstance(value, tuple) else value
        for name, value in ((f.name, getattr(wanted, f.name)) for f in dataclasses.fields(wanted) if f.name != "share")
        if value not in (None, ())
    }


def verify_log(home: HubHome) -> LogReport:
    """Every channel's chain recomputed from the database, against the anchor."""
    config = home.load_config()
    auditor = auditor_for(home, config)
    with open_sessions(home, config) as sessions, sessions() as session:
        return verify(session, auditor.key, auditor.anchor_path)


def purge_log(home: HubHome, config: HubConfig, now: dt.datetime | None = None) -> dict[str, int]:
    """Remove, per channel with a period in ``[audit.retention_days]``, the entries older than it;
    returns the count removed per channel. Each channel is purged in a transaction of its own."""
    moment = now or dt.datetime.now(dt.UTC)
    load_audit_key(home.key_dir(config))  # refuse early (a missing or exposed key) before anything is locked
    purged: dict[str, int] = {}
    with open_sessions(home, config) as sessions:
        for channel, days in sorted(config.audit.retention_days.items()):
            with sessions() as session, session.begin():
                purged[channel] = purge(session, channel, moment - dt.timedelta(days=days))
    return purged
