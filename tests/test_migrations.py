"""Upgrades keep what the database holds, and the migrations build exactly the models' schema.

An operator upgrades by installing the new version and running ``kim-hub init``; a database
written by the previous version must come out with every record still waiting for linking
still waiting, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from kim_hub.hub_db.database import alembic_config, make_engine, upgrade
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


_OLD_AUDIT = "INSERT INTO audit (id, kind, detail, created_at) VALUES (:id, :kind, :detail, :at)"


def test_the_audit_log_migration_seals_the_old_entries_into_their_chains(database_url: str) -> None:
    """The old audit table's rows become the first entries of the transfer and change chains, in
    their old order and with their old times; a record id in clear becomes a token."""
    from kim_hub.hub_db.audit_chain import ChainKey
    from kim_hub.hub_db.audit_log import verify

    config = alembic_config(database_url)
    command.upgrade(config, "0003")
    engine = create_engine(database_url)
    old = [
        ("transfer", {"recipient": "jobcenter", "recipient_record": "962D000001", "categories": ["case"], "content_hash": "h1"}),
        ("review_decision", {"item": 7, "decision": "same", "score": 0.61}),
        ("withdrawal_notice", {"recipient": "caritas", "recipient_record": "erased", "categories": [], "content_hash": "h2"}),
        ("erasure", {"records": 1, "persons": 1, "reason": "erasure request"}),
        (
            "correction_notice",
            {"recipient": "jobcenter", "recipient_record": "siv-SEALED", "categories": [], "content_hash": "h3"},
        ),
    ]
    with engine.begin() as connection:
        for pk, (kind, detail) in enumerate(old, start=1):
            at = dt.datetime(2026, 11, 20, 8, pk, 30, 123456, tzinfo=dt.UTC)
            connection.execute(text(_OLD_AUDIT), {"id": pk, "kind": kind, "detail": json.dumps(detail), "at": at})

    refused = False
    try:  # without the key nothing moves: the old rows could not be sealed
        command.upgrade(config, "head")
    except RuntimeError:
        refused = True
    assert refused
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit")).scalar_one() == 5

    master = bytes(range(32))
    opened = {("jobcenter", "siv-SEALED"): "962D000002"}  # an encrypted id is named by the number it holds
    upgrade(database_url, audit_key=master, record_name=lambda source, stored: opened.get((source, stored), stored))
    key = ChainKey(master)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT channel, seq, actor, action, objects, created_at FROM audit_log ORDER BY id")
        ).all()
        assert "audit" not in inspect(connection).get_table_names()
    assert [(r.channel, r.seq, r.action) for r in rows] == [
        ("transfer", 1, "transfer.summary"),
        ("change", 1, "review.decide"),
        ("transfer", 2, "transfer.withdrawal_notice"),
        ("change", 2, "erase.records"),
        ("transfer", 3, "transfer.correction_notice"),
    ]
    assert {r.actor for r in rows} == {"migrated:before-audit-log"}
    objects = [r.objects if isinstance(r.objects, list) else json.loads(r.objects) for r in rows]
    assert objects[0] == [key.record("jobcenter", "962D000001")] and objects[1] == ["review:7"]
    assert objects[2] == ["record:caritas:erased"] and objects[4] == [key.record("jobcenter", "962D000002")]
    with engine.connect() as connection:
        dumped = json.dumps([list(map(str, r)) for r in connection.execute(text("SELECT * FROM audit_log")).all()])
    assert "962D000001" not in dumped and "SEALED" not in dumped
    with Session(engine) as session:
        report = verify(session, key, None)
    assert report.intact, report
    assert [(c.channel, c.entries) for c in report.channels if c.entries] == [("change", 2), ("transfer", 3)]
    engine.dispose()


def test_a_new_sqlite_database_gets_16_kb_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    new, old = f"sqlite:///{tmp_path / 'new.db'}", f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(new)  # the migrations make the file
    engine = create_engine(old)
    with engine.begin() as connection:  # a database made before, with SQLite's default pages
        connection.execute(text("CREATE TABLE before_upgrade (id INTEGER)"))
    engine.dispose()
    upgrade(old)
    for url, pages in ((new, 16384), (old, 4096)):
        engine = make_engine(url)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar_one() == pages
        engine.dispose()
