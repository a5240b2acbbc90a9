"""The push step: each linked person's case summary to every body that knows the person.

Runs after linking (and as `kim-hub push`). It reads what the hub holds and what each recipient
record was last sent, lets ``exchange.push_plan`` decide what is due (notices first, a summary
only when its content changed), then *delivers* per body through that body's sink: its API when
one of the body's connectors pushes (``rest``), otherwise files in ``outbox/<body>/summaries/``.
A body that collects its documents over the hub's API (``summaries = "collect"``) gets neither:
its planned documents are held for it in the database (``hub_db.collection``, in this push's
transaction), and their transfers are recorded only when it acknowledges them
(``pipeline.api_collect``).
A body's transfers are recorded only after its delivery succeeded, so an unreachable API loses
nothing (its documents are planned again next run) and holds up no other body. Whatever goes
wrong while one body is delivered to stays with that body: it is recorded by kind (never a
value) and the next body is delivered. A document that cannot be encoded is refused on its own.

Addressing. The push plan addresses each document by the recipient record's stored id. For a body
whose record ids the hub keeps encrypted (the job centre) that is a token: the document is
addressed by the body's own id again (the token opened, ``pipeline.record_ids``) right before it
is handed to the body's sink, since only the body that owns the id ever receives it; its outbox
file is still named by the token (``connectors.outbox.FILE_ID``). Everything the hub keeps — the
transfer's content hash, the audit entry — is made from the token-addressed document: a hash of
a document naming the Kundennummer, whose other content the database holds, would let a guess
of the number be checked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.outbox import FILE_ID, OutboxSink
from kim_hub.connectors.registry import is_pull_connector, load_connector
from kim_hub.connectors.rest import PushResult
from kim_hub.core.errors import FatalError, HubError
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.push_plan import Delivery, encodable, missing_origins, plan_deliveries
from kim_hub.exchange.summary import content_hash
from kim_hub.hub_db.collection import bodies_holding, hold_documents
from kim_hub.hub_db.locks import PUSHING, hold
from kim_hub.hub_db.transfers import (
    DeliveredDocument,
    existing_records,
    last_transfers,
    persons_with_records,
    record_transfers,
)
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.home_access import ensure_source
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.runtime.crashpoints import crash_point

log = logging.getLogger(__name__)


@dataclass
class PushOutcome:
    """What one push did (fixed metric names)."""

    summaries_sent: int = 0
    withdrawal_notices: int = 0
    corrections: int = 0
    erasure_notices: int = 0
    unchanged: int = 0
    without_consent: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # body → the kind of failure of its delivery (retried next run)
    # body → documents not encodable, or whose record id does not open (planned again)
    documents_refused: dict[str, int] = field(default_factory=dict)
    outbox_entries_skipped: dict[str, dict[str, int]] = field(default_factory=dict)  # body → kind of entry → count
    # bodies that collect over the API (hub_db.collection): documents waiting after this push, and
    # those taken back as no longer due; their transfers are recorded when the body acknowledges them
    documents_held: dict[str, int] = field(default_factory=dict)
    documents_taken_back: dict[str, int] = field(default_factory=dict)


class Sink(Protocol):
    """The connector contract's push side: an API connector or the outbox folder."""

    def push(self, documents: Sequence[Mapping[str, Any]]) -> object: ...


def push_all(home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None) -> PushOutcome:
    """Plan every due document, deliver per body, record what was delivered — one push at a time.

    The whole push is one transaction that first takes the push lock (hub_db.locks), so a second
    push (a sync run's, `kim-hub push`) waits and then finds everything sent. A crash before the
    commit records nothing; the re-run delivers the same documents again, which the sinks take
    as a replacement (same file names, CSV named by content; the API is idempotent per document)."""
    policy = consent_policy(config, today)
    with sessions() as session, session.begin():
        hold(session, PUSHING)
        persons = persons_with_records(session, minimum=1)
        previous = last_transfers(session)
        plan = plan_deliveries(persons, previous, existing_records(session, missing_origins(persons, previous)), policy)
        outcome = PushOutcome(unchanged=plan.unchanged, without_consent=plan.without_consent)
        now = dt.datetime.now(dt.UTC)
        sent_at = now.isoformat(timespec="seconds")
        forms = RecordIdForms.of(home, config)
        held = {pk: (record.source, record.record_id) for records in persons.values() for pk, record in records}
        by_body = plan.by_body()
        _hold_for_collection(session, config, forms, by_body, outcome, now)
        for body, planned in sorted(by_body.items()):
            addressed = _addressed(outcome, forms, body, _sendable(outcome, body, planned))
            delivered = _deliver(home, config, body, addressed, sent_at, outcome)
            done = []
            for d in delivered:
                crash_point("push")  # delivered, its transfer not yet committed
                origin_ids = [held[pk] for pk in d.origins if pk in held]  # an erased origin has no id left
                done.append(
                    DeliveredDocument(
                        d.recipient_pk, d.recipient, d.kind, content_hash(d.document), d.consents, d.origins, origin_ids
                    )
                )
            record_transfers(session, done)  # the body's transfers and their audit entries, in bulk
            _count(outcome, delivered)
    return outcome


def _hold_for_collection(
    session: Session,
    config: HubConfig,
    forms: RecordIdForms,
    by_body: dict[str, list[Delivery]],
    outcome: PushOutcome,
    now: dt.datetime,
) -> None:
    """The documents of the bodies that collect over the API held for them (taken out of
    ``by_body``): what waits for a body is then what the plan holds for it now. A body that no
    longer collects has whatever still waits for it taken back (it gets its documents delivered)."""
    collecting = {body for body, source in config.sources.items() if source.collects}
    for body in sorted(collecting | bodies_holding(session)):
        due = by_body.pop(body, []) if body in collecting else []
        planned = _addressed(outcome, forms, body, _sendable(outcome, body, due))
        held = hold_documents(session, body, [a.delivery for a in planned], now)
        if body in collecting:
            outcome.documents_held[body] = held.held + held.kept
        if held.taken_back:
            outcome.documents_taken_back[body] = held.taken_back


def consent_policy(config: HubConfig, today: dt.date | None = None) -> ConsentPolicy:
    """The consent rules a push applies on ``today`` (default: today): also what a review
    decision's preview plans with (``pipeline.review``), so it says what the push would send."""
    return ConsentPolicy(today or dt.date.today(), config.exchange.authority_route_open, tuple(config.exchange.purposes))


def _sendable(outcome: PushOutcome, body: str, planned: Sequence[Delivery]) -> list[Delivery]:
    """The body's documents that can be encoded; the others are refused, counted and planned
    again next run (the value that stops them is the source's to correct, and is never named)."""
    sendable = [d for d in planned if encodable(d.document)]
    if refused := len(planned) - len(sendable):
        outcome.documents_refused[body] = refused
        log.warning("push to %s: %d document(s) refused, not encodable as UTF-8 JSON; planned again next run", body, refused)
    return sendable


def _addressed(outcome: PushOutcome, forms: RecordIdForms, body: str, planned: Sequence[Delivery]) -> list[Addressed]:
    """Each document with the id its body knows the record by: the stored id, or for a body whose
    ids are kept encrypted the token opened. A token that does not open under the current key
    (it cannot happen unless the database and the key folder came from different backups) is
    refused like a document that cannot be encoded, and planned again."""
    addressed = []
    for d in planned:
        known = forms.address(body, d.recipient.record_id)
        if known is None:
            outcome.documents_refused[body] = outcome.documents_refused.get(body, 0) + 1
            log.warning("push to %s: a document's record id does not open with the current key; planned again next run", body)
            continue
        addressed.append(Addressed(d, known))
    return addressed


@dataclass(frozen=True)
class Addressed:
    """A planned document and the id its body knows the recipient record by."""

    delivery: Delivery
    record_id: str

    def document(self, sent_at: str, outbox: bool) -> dict[str, Any]:
        """What the sink is given: addressed by the body's id; for an outbox also the file id
        (the stored id) when that differs."""
        document = {**self.delivery.document, "record_id": self.record_id, "kind": self.delivery.kind, "sent_at": sent_at}
        stored = self.delivery.recipient.record_id
        if outbox and stored != self.record_id:
            document[FILE_ID] = stored
        return document


def _deliver(
    home: HubHome, config: HubConfig, body: str, addressed: Sequence[Addressed], sent_at: str, outcome: PushOutcome
) -> Sequence[Delivery]:
    """Deliver one body's documents through its sink; returns what was delivered (nothing when it failed).

    Any failure stays with this body, so the next body is still delivered: it is recorded by its
    kind (the hub's own message for a HubError, else the exception's type, whose message may quote
    a value) and the documents are planned again next run. Only a FatalError stops the push: it
    means the hub cannot go on safely. What the outbox left alone is counted either way."""
    if not addressed:
        return []
    documents = [a.delivery for a in addressed]
    sink: Sink | None = None
    try:
        sink = sink_for(home, config, body)
        result = sink.push([a.document(sent_at, isinstance(sink, OutboxSink)) for a in addressed])
    except FatalError:
        raise
    except Exception as error:  # noqa: BLE001 - one body's failure must not stop the others
        outcome.failed[body] = str(error) if isinstance(error, HubError) else type(error).__name__
        log.warning("push to %s failed (%s); its documents are planned again next run", body, outcome.failed[body])
        return []
    finally:
        if isinstance(sink, OutboxSink) and sink.skipped:
            outcome.outbox_entries_skipped[body] = dict(sink.skipped)
    delivered = _delivered(documents, result)
    if refused := len(documents) - len(delivered):
        outcome.documents_refused[body] = outcome.documents_refused.get(body, 0) + refused
    return delivered


def _delivered(planned: Sequence[Delivery], result: object) -> list[Delivery]:
    """The documents a sink delivered: all, unless it refused some (an API connector refuses a
    document whose text cannot be written as UTF-8). A refused one gets no transfer, so it is
    planned again and never recorded as sent."""
    refused = set(result.refused) if isinstance(result, PushResult) else set()
    return [d for position, d in enumerate(planned) if position not in refused]


def sink_for(home: HubHome, config: HubConfig, body: str) -> Sink:
    """The body's first connector that pushes (its API), else its outbox folder."""
    source = config.sources.get(body)
    for name in source.connectors if source is not None else ():
        connector = load_connector(name)
        if is_pull_connector(connector) and connector.pushes:
            return connector(connector.config_model.from_options(source.options if source else {}))
    if source is not None:
        ensure_source(home, config, body)  # a missing outbox is made with the body's group and mode
    return outbox_sink(home, body)


def outbox_sink(home: HubHome, body: str) -> OutboxSink:
    """The body's summaries folder as a sink. What lies below the hub's outbox folder is the
    body's (it collects there, and may plant anything), so it is opened without following a
    symlink; the outbox folder itself is the operator's and may well be a link to a share."""
    folder = home.outbox(body, "summaries")
    return OutboxSink(folder, root=folder.parents[1], body=body)


def _count(outcome: PushOutcome, delivered: Sequence[Delivery]) -> None:
    for d in delivered:
        if d.kind == "summary":
            outcome.summaries_sent += 1
        elif d.kind == "withdrawal":
            outcome.withdrawal_notices += 1
        elif d.kind == "correction":
            outcome.corrections += 1
        else:
            outcome.erasure_notices += 1
