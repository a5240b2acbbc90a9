"""The push step: each linked person's case summary to every body that knows the person.

Runs after linking (and as `kim-hub push`). It first *plans* — per recipient record, the summary
the consent of the person's other records allows, sent only when its content changed since the
last transfer, so a re-run sends nothing new — and then *delivers* per body through that body's
sink: its API when one of the body's connectors can push (``rest``), otherwise files in
``outbox/<body>/summaries/``. A body's transfers are recorded only after its delivery succeeded,
so an unreachable API loses nothing (its documents are planned again next run) and holds up no
other body.

Notices come before summaries: a withdrawal (or a consent that no longer covers anything) stops
everything and tells every earlier recipient once; a death the authority reported (``tod``) does the
same with a notice of its own; when records a recipient's summary drew on now belong to someone else
(a split) it gets a correction, and when they were erased an erasure notice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.errors import HubError
from kim_hub.connectors.outbox import OutboxSink
from kim_hub.connectors.registry import load_connector
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.summary import HeldRecord, consent_receipt, consenting, content_hash, stop_reason, summary_for
from kim_hub.flows.crashpoints import crash_point
from kim_hub.flows.home import HubConfig, HubHome
from kim_hub.hub_db.locks import PUSHING, hold
from kim_hub.hub_db.transfers import existing_records, last_transfer, persons_with_records, record_transfer
from kim_hub.linkage.pseudonymise import HUB_KEYED_ID

NOTICES = {
    "correction": "correction: part of the summary received belonged to another person; delete it and use the next summary",
    "erasure": "erasure: part of the summary received was erased at the hub (retention or request); delete it and use the next summary",
    "withdrawal": "consent withdrawn: delete the data received",
    "death": "death: the person was reported deceased; no further summaries follow; delete the data received",
    "withdrawal-scope": "consent no longer covers this transfer (expired or narrowed): delete the data received",
}


@dataclass
class PushOutcome:
    summaries_sent: int = 0
    withdrawal_notices: int = 0
    corrections: int = 0
    erasure_notices: int = 0
    unchanged: int = 0
    without_consent: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # body → why its delivery failed (retried next run)


@dataclass(frozen=True)
class Delivery:
    """One document for one recipient record, and what to record once it was delivered."""

    recipient_pk: int
    recipient: HeldRecord
    kind: str  # summary | correction | erasure | withdrawal (also for a death: NOTICES["death"])
    document: dict
    consents: list[dict]
    origins: list[int]


class Sink(Protocol):
    """The connector contract's push side: an API connector or the outbox folder."""

    def push(self, documents: Sequence[Mapping[str, Any]]) -> object: ...


def push_all(home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None) -> PushOutcome:
    """Plan every due document, deliver per body, record what was delivered — one push at a time.

    The whole push is one transaction that first takes the push lock (hub_db.locks), so a second
    push (a sync run's, `kim-hub push`) waits and then finds everything sent. A crash before the
    commit records nothing; the re-run delivers the same documents again, which the sinks take
    as a replacement (same file names, CSV named by content; the API is idempotent per document)."""
    policy = ConsentPolicy(today or dt.date.today(), config.exchange.authority_route_open, tuple(config.exchange.purposes))
    outcome = PushOutcome()
    with sessions() as session, session.begin():
        hold(session, PUSHING)
        by_body: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in plan_deliveries(session, policy, outcome):
            by_body[delivery.recipient.source].append(delivery)
        sent_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for body, planned in sorted(by_body.items()):
            try:
                sink_for(home, config, body).push([{**d.document, "kind": d.kind, "sent_at": sent_at} for d in planned])
            except HubError as error:
                outcome.failed[body] = str(error)
                continue
            for d in planned:
                crash_point("push")  # delivered, its transfer not yet committed
                record_transfer(session, d.recipient_pk, d.recipient, d.kind, content_hash(d.document), d.consents, d.origins)
            _count(outcome, planned)
    return outcome


def sink_for(home: HubHome, config: HubConfig, body: str) -> Sink:
    """The body's first connector that can push (its API), else its outbox folder."""
    source = config.sources.get(body)
    for name in source.connectors if source is not None else ():
        connector_class = load_connector(name)
        if hasattr(connector_class, "push"):
            return connector_class(connector_class.config_model.from_options(source.options))
    return OutboxSink(home.outbox(body, "summaries"))


def plan_deliveries(session: Session, policy: ConsentPolicy, outcome: PushOutcome) -> list[Delivery]:
    """Every document due, per person and recipient record, notices first."""
    deliveries: list[Delivery] = []
    for records in persons_with_records(session, minimum=1).values():
        held = [record for _pk, record in records]
        stopped = stop_reason(held, policy.today)  # a key of NOTICES, or None
        for pk, recipient in records:
            if recipient.case.get(HUB_KEYED_ID):
                continue  # a record known to its source by no id the hub could address (the authority's messages)
            deliveries += _plan_one(session, pk, recipient, held, stopped, policy, outcome)
    return deliveries


def _plan_one(
    session: Session,
    pk: int,
    recipient: HeldRecord,
    held: list[HeldRecord],
    stopped: str | None,
    policy: ConsentPolicy,
    outcome: PushOutcome,
) -> list[Delivery]:
    previous = last_transfer(session, pk)
    had_summary = previous is not None and previous.kind == "summary"
    planned: list[Delivery] = []
    if had_summary and not set(previous.origins) <= {r.key for r in held}:
        missing = set(previous.origins) - {r.key for r in held}
        kind = "correction" if existing_records(session, missing) else "erasure"
        planned.append(_notice(pk, recipient, kind, NOTICES[kind]))
        had_summary = False
    shared = [] if stopped else consenting(recipient, held, policy)
    summary = summary_for(recipient, shared) if shared else None
    if summary is None:
        if had_summary:  # consent gone or narrowed to nothing, or the person died: tell who had data
            planned.append(_notice(pk, recipient, "withdrawal", NOTICES[stopped or "withdrawal-scope"]))
        elif len(held) > 1 and not planned:
            outcome.without_consent += 1
        return planned
    if had_summary and previous.content_hash == content_hash(summary):
        outcome.unchanged += 1
        return planned
    origins = sorted(s.record.key for s in shared if s.record.key is not None)
    planned.append(Delivery(pk, recipient, "summary", summary, consent_receipt(shared), origins))
    return planned


def _notice(pk: int, recipient: HeldRecord, kind: str, text: str) -> Delivery:
    return Delivery(
        pk, recipient, kind, {"recipient": recipient.source, "record_id": recipient.record_id, "notice": text}, [], []
    )


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
