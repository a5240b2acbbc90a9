"""Linking new and changed records into the master index: once per sync, after every source.

The master index (``hub_db.master_index``) does the work in one transaction; this step frees the
ingest's idle worker processes first (they would only hold their token caches through a link run)
and marks the crash point the reliability tests use. A long-running process (the web application,
whose reviewers' decisions each re-link a pair) keeps the loaded index between runs inside
``index_kept`` (``hub_db.kept_index``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.kept_index import keeping as index_kept
from kim_hub.hub_db.master_index import LinkOutcome, LinkPolicy, link_pending, reestimate
from kim_hub.pipeline.home import HubConfig
from kim_hub.runtime.crashpoints import crash_point
from kim_hub.runtime.parallel import release_workers

__all__ = ["index_kept", "link_index", "link_policy", "reestimate_model"]


def link_policy(config: HubConfig) -> LinkPolicy:
    """The thresholds and re-learning rule of ``[linkage]`` in hub.toml."""
    return LinkPolicy(**config.linkage.model_dump())


def link_index(sessions: sessionmaker[Session], config: HubConfig) -> LinkOutcome:
    """Link all new and changed records into the master index, in one transaction."""
    release_workers()  # the ingest's idle workers and their caches (a first run's parse starts fresh ones)
    with sessions() as session, session.begin():
        outcome = link_pending(session, link_policy(config))
        session.flush()
        crash_point("link")
        return outcome


def reestimate_model(sessions: sessionmaker[Session], relink: bool = False) -> int:
    """Learn the model anew from the whole index and store it; returns its version. With
    ``relink`` every record is queued, so the next link run re-clusters the index under it."""
    with sessions() as session, session.begin():
        return reestimate(session, relink)
