"""The providers' API as stored: tokens (by the SHA-256 of the token), idempotency keys and the
bytes delivered per body and day (rules: ``pipeline.api_tokens``, ``pipeline.api_deliveries``).

Nothing here is about the persons of the index: a token belongs to a body, a key to a delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import ApiDeliveryDay, ApiIdempotency, ApiToken

__all__ = [
    "ApiToken",
    "add_delivered_bytes",
    "all_tokens",
    "delivered_bytes",
    "idempotency_content",
    "remember_idempotency",
    "token_by_hash",
]


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash)).scalar_one_or_none()


def all_tokens(session: Session) -> Sequence[ApiToken]:
    return session.execute(select(ApiToken).order_by(ApiToken.id)).scalars().all()


def idempotency_content(session: Session, body: str, source: str, key_hash: str) -> str | None:
    """The content hash an earlier delivery with this key stood for, or None."""
    query = select(ApiIdempotency.content_hash).where(
        ApiIdempotency.body == body, ApiIdempotency.source == source, ApiIdempotency.key_hash == key_hash
    )
    return session.execute(query).scalar_one_or_none()


def remember_idempotency(session: Session, body: str, source: str, key_hash: str, content_hash: str) -> None:
    session.add(ApiIdempotency(body=body, source=source, key_hash=key_hash, content_hash=content_hash))


def delivered_bytes(session: Session, body: str, day: dt.date) -> int:
    query = select(ApiDeliveryDay.bytes).where(ApiDeliveryDay.body == body, ApiDeliveryDay.day == day)
    return int(session.execute(query).scalar_one_or_none() or 0)


def add_delivered_bytes(session: Session, body: str, day: dt.date, count: int) -> None:
    """Count ``count`` more bytes for the body's day (the row is made on its first delivery)."""
    row = session.execute(
        select(ApiDeliveryDay).where(ApiDeliveryDay.body == body, ApiDeliveryDay.day == day).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        session.add(ApiDeliveryDay(body=body, day=day, bytes=count))
    else:
        row.bytes += count
