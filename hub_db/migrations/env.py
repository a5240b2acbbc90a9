"""Alembic environment: runs migrations against the URL set in code by hub_db.database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, event, pool

from kim_hub.hub_db.database import sqlite_page_size
from kim_hub.hub_db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    if connectable.dialect.name == "sqlite":  # the first migration makes the file: with the hub's page size
        event.listen(connectable, "connect", sqlite_page_size)  # (not its foreign keys: a batch migration copies tables)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
