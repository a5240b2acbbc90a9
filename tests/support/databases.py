"""The test databases: a SQLite file, or a fresh database on the test PostgreSQL server.

PostgreSQL comes from $KIM_HUB_TEST_POSTGRES_URL (.ci/run starts a server and sets it). Without
it a test fails in CI (``CI`` set) and is skipped on a developer's machine.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = postgres_admin_url()
    name = f"kimhub_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
