"""The test databases: a SQLite file, or a fresh database on the test PostgreSQL server.

PostgreSQL comes from $KIM_HUB_TEST_POSTGRES_URL (.ci/run starts a server and sets it). Without
it a test fails in CI (``CI`` set) and is skipped on a developer's machine.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

POSTGRES_ENV = "KIM_HUB_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def sqlite_url(path: Path) -> str:
    """A SQLite database in the file ``path`` (created on first use)."""
    return f"sqlite:///{path}"


def postgres_admin_url() -> str:
    """$KIM_HUB_TEST_POSTGRES_URL; without it the test fails in CI and is skipped elsewhere."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test against PostgreSQL")
        pytest.skip(f"{POSTGRES_ENV} not set (run .ci/postgres.sh to start a server)")
    return admin_url


_MIGRATED_TEMPLATES: dict[str, str] = {}
"""Per backend, a database of this process already at the newest migration (SQLite: a file;
PostgreSQL: a template database): a test home's database starts as a copy of it. Migrating from
empty costs about a quarter of a second of CPU, and a run makes several hundred homes; the
migrations themselves are tested from empty in tests/test_migrations.py and by every `kim-hub
init` of the end-to-end tests."""


def migrated_sqlite_database(path: Path) -> str:
    """A SQLite hub database in the new file ``path``, at the newest migration."""
    if "sqlite" not in _MIGRATED_TEMPLATES:
        from kim_hub.hub_db.database import upgrade

        folder = tempfile.mkdtemp(prefix="kimhub-test-schema-")
        atexit.register(shutil.rmtree, folder, True)
        template = os.path.join(folder, "template.db")
        upgrade(sqlite_url(Path(template)))
        with closing(sqlite3.connect(template)) as connection:  # everything in the main file, none in a -wal beside it
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _MIGRATED_TEMPLATES["sqlite"] = template
    shutil.copyfile(_MIGRATED_TEMPLATES["sqlite"], path)
    path.chmod(0o600)  # as `kim-hub init` makes it
    return sqlite_url(path)


def _postgres_template(admin_url: str) -> str:
    """This process's PostgreSQL template database at the newest migration (dropped at exit)."""
    if "postgresql" not in _MIGRATED_TEMPLATES:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from kim_hub.hub_db.database import upgrade

        name = f"kimhub_schema_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        upgrade(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
        atexit.register(_drop_postgres_database, admin_url, name)
        _MIGRATED_TEMPLATES["postgresql"] = name
    return _MIGRATED_TEMPLATES["postgresql"]


def _drop_postgres_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def postgres_database(migrated: bool = False) -> Iterator[str]:
    """A new database on the test PostgreSQL server, dropped afterwards: empty, or with
    ``migrated`` a copy of this process's template at the newest migration."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = postgres_admin_url()
    name = f"kimhub_test_{uuid.uuid4().hex[:10]}"
    template = f' TEMPLATE "{_postgres_template(admin_url)}"' if migrated else ""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
