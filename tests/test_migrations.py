"""Upgrades keep what the database holds, and the migrations build exactly the models' schema.

An operator upgrades by installing the new version and running ``kim-hub init``; a database
written by the previous version must come out with every record still waiting for linking
still waiting, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from kim_hub.hub_db.database import alembic_config, upgrade
from kim_hub.hub_db.models import Base

_RECORD = (
    "INSERT INTO source_records (id, source, record_id, case_data, encoding, key_id, content_hash, needs_link, created_at, updated_at)"
    " VALUES (:id, 'caritas', :rid, '{}', '{}', 'k1', 'h', :waiting, :now, :now)"
)


def test_the_link_queue_migration_keeps_waiting_records_waiting(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "0001")
    engine = create_engine(database_url)
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for pk, is_waiting in ((1, True), (2, False), (3, True)):
            connection.execute(text(_RECORD), {"id": pk, "rid": f"C-{pk}", "waiting": is_waiting, "now": now})
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT record_id FROM link_queue ORDER BY record_id"))] == [1, 3]
        assert "needs_link" not in {c["name"] for c in inspect(connection).get_columns("source_records")}
        assert connection.execute(text("SELECT count(*) FROM source_records")).scalar_one() == 3
    command.downgrade(config, "0001")
    with engine.connect() as connection:
        flags = connection.execute(text("SELECT id, needs_link FROM source_records ORDER BY id")).all()
    assert [(pk, bool(flag)) for pk, flag in flags] == [(1, True), (2, False), (3, True)]
    engine.dispose()


def test_the_migrations_build_the_schema_the_models_describe(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
