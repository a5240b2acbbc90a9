"""Every record with its person: the `kim-hub links` export and the demo's results file."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any, TextIO

from sqlalchemy import select

from kim_hub.core.access import Access
from kim_hub.core.cells import spreadsheet_safe
from kim_hub.hub_db.audit_log import INDEX_OBJECT
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome

LINKS_HEADER = ("source", "record_id", "person_id", "link_status", "score")
LinkRow = tuple[Any, ...]  # (source, record_id, pseudonym, status, score)


def link_rows(home: HubHome, access: Access | None = None) -> list[LinkRow]:
    """(source, record_id, pseudonym, status, score) for every record, ordered by source and id.

    A read of every record: one audit entry with the object ``index`` (the whole index)."""
    config = home.load_config()
    query = (
        select(SourceRecord.source, SourceRecord.record_id, Person.pseudonym, Link.status, Link.score)
        .outerjoin(Link, Link.record_id == SourceRecord.id)
        .outerjoin(Person, Person.id == Link.person_id)
        .order_by(SourceRecord.source, SourceRecord.record_id)
    )
    with open_sessions(home, config) as sessions:
        with sessions() as session:
            rows = [tuple(row) for row in session.execute(query)]
        record_read(sessions, config, "links.export", [INDEX_OBJECT], access, {"records": len(rows)})
    return rows


def write_links_csv(handle: TextIO, rows: Sequence[LinkRow]) -> None:
    """The links CSV: header exactly as documented, cells safe to open in a spreadsheet."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(LINKS_HEADER)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
