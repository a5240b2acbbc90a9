"""Opening a home's database: the one place the command line and the flows get sessions from.

Commands and flows read and write the hub's data only through the pipeline's services, so what a
service must do around a read or a write (locks now, the audit of reads the data-protection rules
ask for) has one place to live.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.pipeline.home import HubConfig, HubHome


@contextmanager
def open_sessions(home: HubHome, config: HubConfig | None = None) -> Iterator[sessionmaker[Session]]:
    """A session factory on the home's database; its connections are closed when the block ends."""
    engine = make_engine(home.database_url(config or home.load_config()))
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()
