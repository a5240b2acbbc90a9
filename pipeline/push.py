"""The push step: each linked person's case summary to every body that knows the person.

Runs after linking (and as `kim-hub push`). It reads what the hub holds and what each recipient
record was last sent, lets ``exchange.push_plan`` decide what is due (notices first, a summary
only when its content changed), then *delivers* per body through that body's sink: its API when
one of the body's connectors pushes (``rest``), otherwise files in ``outbox/<body>/summaries/``.
A body's transfers are recorded only after its delivery succeeded, so an unreachable API loses
nothing (its documents are planned again next run) and holds up no other body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.connectors.outbox import OutboxSink
from kim_hub.connectors.registry import is_pull_connector, load_connector
from kim_hub.connectors.rest import PushResult
from kim_hub.core.errors import HubError
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.push_plan import Delivery, missing_origins, plan_deliveries
from kim_hub.exchange.summary import content_hash
from kim_hub.hub_db.locks import PUSHING, hold
from kim_hub.hub_db.transfers import existing_records, last_transfers, persons_with_records, record_transfer
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.runtime.crashpoints import crash_point


@dataclass
class PushOutcome:
    """What one push did (fixed metric names)."""

    summaries_sent: int = 0
    withdrawal_notices: int = 0
    corrections: int = 0
    erasure_notices: int = 0
    unchanged: int = 0
    without_consent: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # body → why its delivery failed (retried next run)


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
    with sessions() as session, session.begin():
        hold(session, PUSHING)
        persons = persons_with_records(session, minimum=1)
        previous = last_transfers(session)
        plan = plan_deliveries(persons, previous, existing_records(session, missing_origins(persons, previous)), policy)
        outcome = PushOutcome(unchanged=plan.unchanged, without_consent=plan.without_consent)
        sent_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for body, planned in sorted(plan.by_body().items()):
            try:
                result = sink_for(home, config, body).push([{**d.document, "kind": d.kind, "sent_at": sent_at} for d in planned])
            except HubError as error:
                outcome.failed[body] = str(error)
                continue
            delivered = _delivered(planned, result)
            if len(delivered) < len(planned):
                refused = len(planned) - len(delivered)
                outcome.failed[body] = (
                    f"{refused} document(s) not sent: text that cannot be written as UTF-8; planned again next run"
                )
            for d in delivered:
                crash_point("push")  # delivered, its transfer not yet committed
                record_transfer(session, d.recipient_pk, d.recipient, d.kind, content_hash(d.document), d.consents, d.origins)
            _count(outcome, delivered)
    return outcome


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
    return OutboxSink(home.outbox(body, "summaries"))


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
