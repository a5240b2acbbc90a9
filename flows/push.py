"""The push step: each linked person's case summary to every body that knows the person.

Runs after linking (and as `kim-hub push`). Per recipient record it builds the summary the
consent of the person's other records allows, and delivers it only when its content changed
since the last transfer — so a re-run sends nothing new. A withdrawal stops everything at once
and sends every earlier recipient one withdrawal notice; when a wrongly merged person was split,
every recipient whose summary drew on records that are no longer the same person gets a
correction first. Delivery is a file in
``outbox/<recipient>/summaries/`` written atomically (REST delivery is the connector's push,
wired when a recipient uses the REST connector).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from connectors.receipts import atomic_write, safe_file_name
from exchange.consent import withdrawn
from exchange.summary import HeldRecord, consenting, content_hash, summary_for
from flows.crashpoints import crash_point
from flows.home import HubConfig, HubHome
from hub_db.locks import PUSHING, hold
from hub_db.transfers import last_transfer, persons_with_records, record_transfer


@dataclass
class PushOutcome:
    summaries_sent: int = 0
    withdrawal_notices: int = 0
    corrections: int = 0
    unchanged: int = 0
    without_consent: int = 0


def push_all(home: HubHome, config: HubConfig, sessions: sessionmaker[Session], today: dt.date | None = None) -> PushOutcome:
    """Send every changed summary and due withdrawal notice (one transaction)."""
    today = today or dt.date.today()
    outcome = PushOutcome()
    with sessions() as session, session.begin():
        hold(session, PUSHING)  # a second push (a sync run's, `kim-hub push`) waits, then sends nothing twice
        for records in persons_with_records(session, minimum=1).values():
            held = [record for _pk, record in records]
            person_withdrew = withdrawn([r.case.get("consent") or {} for r in held], today)
            for pk, recipient in records:
                _push_one(session, home, pk, recipient, held, person_withdrew, today, config.exchange.authority_route_open, outcome)
    return outcome


def _push_one(
    session: Session,
    home: HubHome,
    pk: int,
    recipient: HeldRecord,
    held: list[HeldRecord],
    person_withdrew: bool,
    today: dt.date,
    authority_route_open: bool,
    outcome: PushOutcome,
) -> None:
    previous = last_transfer(session, pk)
    if previous is not None and previous.kind == "summary" and not set(previous.origins) <= {r.key for r in held}:
        # the person was split: what was sent came partly from someone else's records
        notice = {
            "recipient": recipient.source,
            "record_id": recipient.record_id,
            "notice": "correction: part of the summary received belonged to another person; delete it and use the next summary",
        }
        _deliver(home, recipient, notice, "correction")
        record_transfer(session, pk, recipient, "correction", content_hash(notice), [])
        outcome.corrections += 1
        previous = last_transfer(session, pk)
    summary = None if person_withdrew else summary_for(recipient, held, today, authority_route_open)
    if summary is None:
        if previous is not None and previous.kind == "summary":  # consent gone: tell who had data
            notice = {"recipient": recipient.source, "record_id": recipient.record_id, "notice": "consent withdrawn: delete the data received"}
            _deliver(home, recipient, notice, "withdrawal")
            record_transfer(session, pk, recipient, "withdrawal", content_hash(notice), [])
            outcome.withdrawal_notices += 1
        elif len(held) > 1:
            outcome.without_consent += 1
        return
    digest = content_hash(summary)
    if previous is not None and previous.kind == "summary" and previous.content_hash == digest:
        outcome.unchanged += 1
        return
    _deliver(home, recipient, summary, "summary")
    origins = [r.key for r in consenting(recipient, held, today, authority_route_open) if r.key is not None]
    record_transfer(session, pk, recipient, "summary", digest, summary["based_on_consent_of"], origins)
    outcome.summaries_sent += 1


def _deliver(home: HubHome, recipient: HeldRecord, document: dict, kind: str) -> Path:
    folder = home.path / "outbox" / recipient.source / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    document = {**document, "kind": kind, "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    path = folder / f"{safe_file_name(recipient.record_id)}.{kind}.json"
    atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    crash_point("push")
    return path
