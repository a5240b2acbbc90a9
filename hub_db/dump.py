"""A canonical, comparable picture of what the hub holds (for crash and restore checks).

Pseudonyms are random, so two equivalent runs give the same persons different names; the dump
therefore describes persons as sets of records, not by pseudonym. Ids and timestamps are left
out for the same reason (record keys become (source, record_id); link events keep their kind and
sizes, not the pseudonyms). Nothing identifying is in it: only what the database holds anyway.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import (
    AuditEntry,
    IngestFile,
    Link,
    LinkEvent,
    ModelVersion,
    Person,
    RecordEvent,
    RejectedRow,
    ReviewItem,
    SourceRecord,
    Transfer,
)


def canonical_dump(session: Session) -> dict[str, Any]:
    records = session.execute(
        select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.content_hash)
    ).all()
    key = {row.id: (row.source, row.record_id) for row in records}
    persons: dict[int, list[tuple[str, str]]] = defaultdict(list)
    statuses = {}
    for record_id, person_id, status in session.execute(select(Link.record_id, Link.person_id, Link.status)).all():
        persons[person_id].append(key[record_id])
        statuses[key[record_id]] = status
    return {
        "records": sorted((row.source, row.record_id, row.content_hash) for row in records),
        "persons": sorted(sorted(members) for members in persons.values()),
        "link_status": sorted(statuses.items()),
        "unlinked": sorted(set(key.values()) - set(statuses)),
        "person_rows": sorted(p.retired_at is None for p in session.execute(select(Person)).scalars()),
        "model_versions": sorted(m.record_count for m in session.execute(select(ModelVersion)).scalars()),
        "ledger": sorted(
            (f.source, f.file_name, f.content_hash, f.status, f.rows_total, f.rows_accepted, f.rows_unchanged, f.rows_rejected)
            for f in session.execute(select(IngestFile)).scalars()
        ),
        "rejected_rows": sorted(
            (r.source, r.file_name, r.row_number or 0, r.field or "", r.reason)
            for r in session.execute(select(RejectedRow)).scalars()
        ),
        "record_events": sorted(
            (key[e.record_id], e.kind, e.occurred_on.isoformat(), _canonical(e.detail))
            for e in session.execute(select(RecordEvent)).scalars()
        ),
        "link_events": sorted(
            (e.kind, len(e.before), len(e.after), e.records, e.reason) for e in session.execute(select(LinkEvent)).scalars()
        ),
        "review_items": sorted(
            (*sorted((key[i.record_a], key[i.record_b])), i.score, i.status, _canonical(i.evidence))
            for i in session.execute(select(ReviewItem)).scalars()
        ),
        "transfers": sorted(
            (
                key[t.recipient_record],
                t.kind,
                t.content_hash,
                _canonical(sorted(t.consent_of)),
                _canonical(sorted(key.get(o, ("erased", "")) for o in t.origins)),
            )
            for t in session.execute(select(Transfer)).scalars()
        ),
        # what the hub sent and changed; reads, inputs (a re-delivered file after a crash) and
        # admin entries depend on how a run went, and object ids are tokens of the home's own key
        "audit": sorted(
            (a.channel, a.action, _canonical(a.detail), len(a.objects))
            for a in session.execute(select(AuditEntry).where(AuditEntry.channel.in_(("transfer", "change")))).scalars()
        ),
    }


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
