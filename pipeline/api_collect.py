"""A body collects its summaries and notices over the hub's API instead of from an outbox folder.

The hub still *pushes*: what a body can collect is exactly what the push planned for it under the
consent rules — the documents it would have found in ``outbox/<body>/summaries/`` — held for it by
the push (``hub_db.collection``) when its source says ``summaries = "collect"`` in hub.toml. There
is no lookup: a body reads the documents waiting for it, page by page, and acknowledges what it
took. The API's routes call these two functions only, with the body and the actor their token
stands for:

* ``documents_for``: the documents waiting, oldest first, after a cursor (``since``); each with a
  stable ``id`` (the same document keeps its id across calls and pushes until it is acknowledged
  or no longer due) and ``cursor``. The document is what the outbox file would hold: the summary
  or notice, addressed by the id the body knows the record by (an encrypting source's token
  opened here, never stored), with ``kind`` and ``sent_at`` (when the push first held it). Every
  call is a read of person-level data in the audit log (``summaries.collect``) before anything is
  returned, naming the records by token.
* ``acknowledge``: the body took these documents. Only now is each transfer recorded, with the
  transfer row and audit entry an outbox write has, so later corrections, erasure and withdrawal
  notices follow from it exactly as for an outbox. Ids not held for this body (unknown, or
  another body's) are refused without saying which of the two; acknowledging twice is harmless.

Erasure and retention reach the held documents through ``hub_db.erasure`` (documents addressed to
an erased record or drawn from one go with it); an acknowledged document keeps no content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kim_hub.core.access import READ_PURPOSES, Access, Actor
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import record_objects
from kim_hub.hub_db.collection import acknowledge_documents, mark_collected, records_of, stored_ids, waiting
from kim_hub.hub_db.models import HeldDocument
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.record_ids import RecordIdForms

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "AckResult", "CollectedDocument", "NotCollectingError", "acknowledge", "documents_for"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
READ_ACTION = "summaries.collect"


class NotCollectingError(ConfigError):
    """The body is not configured to collect over the API (or the actor acts for another body):
    the API answers as for a body that does not exist."""

    def __init__(self) -> None:
        super().__init__('this body does not collect its summaries over the API ([sources.<body>] summaries = "collect")')


@dataclass(frozen=True)
class CollectedDocument:
    """One document waiting for a body: its stable id (to acknowledge it), its place in the
    body's queue (``cursor``: pass the last one seen as ``since``), and the document itself."""

    id: str
    cursor: int
    kind: str  # summary | withdrawal | correction | erasure
    document: dict[str, Any]


@dataclass(frozen=True)
class AckResult:
    """What an acknowledgement did. ``refused``: the ids given that are not held for this body —
    unknown or another body's, never told apart — and any id not of the hub's form."""

    acknowledged: int
    already_acknowledged: int
    refused: tuple[str, ...]


def documents_for(
    home: HubHome,
    body: str,
    since: int | None = None,
    limit: int = DEFAULT_LIMIT,
    *,
    actor: Actor,
    access: Access | None = None,
) -> list[CollectedDocument]:
    """The documents waiting for ``body`` after cursor ``since`` (None: from the first), oldest
    first, at most ``limit``; the read is audited as ``actor`` before they are returned."""
    config = home.load_config()
    _check(config, body, actor)
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be between 1 and {MAX_LIMIT}")
    if since is not None and since < 0:
        raise ConfigError("since must be a cursor the hub returned (a whole number, 0 or more)")
    forms = RecordIdForms.of(home, config)
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            rows = waiting(session, body, since, limit)
            stored = stored_ids(session, {row.recipient_record for row in rows})
            found = [
                (row, known) for row in rows if (known := forms.address(body, stored.get(row.recipient_record, ""))) is not None
            ]
            named = [(body, stored[row.recipient_record]) for row, _known in found]
            named += records_of(session, {origin for row, _known in found for origin in row.origins or ()})
            objects = record_objects(session, named)
            documents = [_collected(row, known) for row, known in found]
        if documents:  # first: a document the body may have read is never taken back without a trace
            with sessions() as session, session.begin():
                mark_collected(session, [d.cursor for d in documents], dt.datetime.now(dt.UTC))
        purpose = Access(READ_PURPOSES[READ_ACTION]) if access is None else access
        record_read(sessions, config, READ_ACTION, objects, purpose, {"body": body, "documents": len(documents)})
    return documents


def acknowledge(home: HubHome, body: str, document_ids: Sequence[str], actor: Actor) -> AckResult:
    """Record that ``body`` collected these documents: each one's transfer, in the order the push
    held them, as ``actor``; returns the counts and the ids refused."""
    config = home.load_config()
    _check(config, body, actor)
    if len(document_ids) > MAX_LIMIT:
        raise ConfigError(f"at most {MAX_LIMIT} documents can be acknowledged at once")
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        done = acknowledge_documents(session, body, document_ids, dt.datetime.now(dt.UTC))
    return AckResult(done.acknowledged, done.already, done.refused)


def _check(config: HubConfig, body: str, actor: Actor) -> None:
    """Refuse a body that does not collect, and an API actor acting for another body."""
    source = config.sources.get(body)
    if source is None or not source.collects or (actor.api_body is not None and actor.api_body != body):
        raise NotCollectingError()


def _collected(row: HeldDocument, known: str) -> CollectedDocument:
    """The document as the body's outbox file would hold it: addressed by the id it knows."""
    held_at = row.held_at if row.held_at.tzinfo else row.held_at.replace(tzinfo=dt.UTC)
    document = {
        **(row.document or {}),
        "record_id": known,
        "kind": row.kind,
        "sent_at": held_at.isoformat(timespec="seconds"),
    }
    return CollectedDocument(row.document_id, row.seq, row.kind, document)
