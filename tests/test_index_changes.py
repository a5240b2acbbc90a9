"""Every change of the stored records marks ``index_changes``, whoever makes it, on both backends.

The kept index of a long-running process and a sync's look for work trust these marks: a change
that left none would let a process link against records that are no longer there. Inserts are
marked by the code storing them (on SQLite without a trigger per row, migration 0018); updates
and deletes by the database's triggers.
"""

from __future__ import annotations

from sqlalchemy import delete, select, text, update

from kim_hub.hub_db.kept_index import read_marks
from kim_hub.hub_db.models import SourceRecord
from tests.support.data import GOOD
from tests.support.hub import Hub


def _marks(hub: Hub) -> tuple[tuple[int, int], ...]:
    with hub.sessions() as session:
        return read_marks(session)


def test_storing_a_delivery_marks_the_index_changed(hub: Hub) -> None:
    before = _marks(hub)
    hub.drop_rows("caritas", "export.csv", GOOD)
    assert hub.ingest("caritas").records_in == len(GOOD)
    assert _marks(hub) != before


def test_an_update_or_a_delete_made_by_hand_marks_the_index_changed(hub: Hub) -> None:
    hub.drop_rows("caritas", "export.csv", GOOD)
    hub.ingest("caritas")
    hub.link()  # the run prunes the marks it saw and leaves its own
    settled = _marks(hub)
    with hub.sessions() as session, session.begin():
        session.execute(update(SourceRecord).values(content_hash="0" * 16))
    updated = _marks(hub)
    assert updated != settled
    with hub.sessions() as session, session.begin():
        first = session.execute(select(SourceRecord.id).limit(1)).scalar_one()
        session.execute(delete(SourceRecord).where(SourceRecord.id == first))
    assert _marks(hub) not in (settled, updated)


def test_inserts_are_marked_by_a_trigger_per_statement_or_by_the_storing_code(hub: Hub) -> None:
    """SQLite: no trigger per inserted row (the storing code marks); PostgreSQL: one per statement."""
    with hub.engine.connect() as connection:
        if hub.engine.dialect.name == "sqlite":
            triggers = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            assert "index_changed_insert" not in triggers
            assert {"index_changed_update", "index_changed_delete"} <= triggers
        else:
            definition = connection.execute(
                text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'index_changed'")
            ).scalar_one()
            assert "INSERT" in definition and "FOR EACH STATEMENT" in definition
