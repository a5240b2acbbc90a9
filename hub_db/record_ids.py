"""Stored record ids in the form their source asks for: clear, or encrypted tokens only.

A source whose record ids the hub encrypts (``linkage.record_ids``) must hold no clear id, and one
whose ids are kept clear no token: two forms of one id would be two records of one case. This
module finds ids in the wrong form and renames ids. Nothing else names a record by its stored id:
links, review items, events and transfers name it by its key, which never changes, and the audit
log by a token of the id its body knows, which a new encrypted form does not change
(``pipeline.database.auditor_for``). The caller commits and decides what the new ids are
(pipeline.record_ids).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.models import SourceRecord
from kim_hub.linkage.record_ids import TOKEN_PREFIX
from kim_hub.mappings.case_summary import HUB_KEYED_ID

_TOKEN_PATTERN = TOKEN_PREFIX.replace("_", "\\_").replace("%", "\\%") + "%"


def ids_not_in_form(session: Session, source: str, sealed: bool) -> Iterator[tuple[int, str]]:
    """(key, record id) of each record of ``source`` whose id is not in the source's form: a clear
    id where tokens belong (the authority's keyed one-way ids, never addressable, excepted), or a
    token where clear ids belong. Lazy: the first answers whether there are any."""
    is_token = SourceRecord.record_id.like(_TOKEN_PATTERN, escape="\\")
    query = select(SourceRecord.id, SourceRecord.record_id, SourceRecord.case_data).where(
        SourceRecord.source == source, ~is_token if sealed else is_token
    )
    for pk, record_id, case in session.execute(query.execution_options(yield_per=1000)):
        if sealed and (case or {}).get(HUB_KEYED_ID):
            continue
        yield pk, record_id


def existing_ids(session: Session, source: str, record_ids: list[str]) -> set[str]:
    """Which of these ids ``source`` holds already."""
    found: set[str] = set()
    for chunk in chunked(record_ids, 500):
        query = select(SourceRecord.record_id).where(SourceRecord.source == source, SourceRecord.record_id.in_(chunk))
        found.update(session.execute(query).scalars())
    return found


def rename_record_ids(session: Session, source: str, renamed: Mapping[str, str]) -> None:
    """Give records of ``source`` new ids (old → new)."""
    if not renamed:
        return
    by_id: dict[str, SourceRecord] = {}
    for chunk in chunked(sorted(renamed), 500):
        query = select(SourceRecord).where(SourceRecord.source == source, SourceRecord.record_id.in_(chunk))
        by_id.update((record.record_id, record) for record in session.execute(query).scalars())
    for old_id, record in by_id.items():
        record.record_id = renamed[old_id]
    session.flush()
