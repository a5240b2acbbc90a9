"""The audit trail as one time-ordered list: audit entries plus the master index's link events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import AuditEntry, LinkEvent


def audit_entries(session: Session, kind: str | None = None, limit: int = 50) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    entries: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    if kind in (None, "link"):
        entries += [
            (
                event.created_at,
                "link",
                {"event": event.kind, "before": event.before, "after": event.after, "reason": event.reason},
            )
            for event in session.execute(select(LinkEvent).order_by(LinkEvent.id.desc()).limit(limit)).scalars()
        ]
    if kind != "link":
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if kind:
            query = query.where(AuditEntry.kind == kind)
        entries += [(entry.created_at, entry.kind, entry.detail) for entry in session.execute(query).scalars()]
    return sorted(entries, key=lambda e: e[0].replace(tzinfo=e[0].tzinfo or dt.UTC), reverse=True)[:limit]
