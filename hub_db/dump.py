"""A canonical, comparable picture of what the hub holds (for crash and restore checks).

Pseudonyms are random, so two equivalent runs give the same persons different names; the dump
therefore describes persons as sets of records, not by pseudonym. Ids and timestamps are left
out for the same reason. Nothing identifying is in it: only what the database holds anyway.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub_db.models import IngestFile, Link, RejectedRow, SourceRecord


def canonical_dump(session: Session) -> dict:
    records = session.execute(select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.content_hash)).all()
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
        "ledger": sorted(
            (f.source, f.file_name, f.content_hash, f.status, f.rows_total, f.rows_accepted, f.rows_unchanged, f.rows_rejected)
            for f in session.execute(select(IngestFile)).scalars()
        ),
        "rejected_rows": sorted(
            (r.source, r.file_name, r.row_number or 0, r.field or "", r.reason) for r in session.execute(select(RejectedRow)).scalars()
        ),
    }
