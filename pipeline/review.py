"""The review queue as a service: list uncertain pairs, decide one (``hub_db.review`` stores them).

A decision binds the clustering from then on and re-links both records at once, under the
thresholds of the home's ``[linkage]``.
"""

from __future__ import annotations

from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.hub_db.review import ReviewEntry, decide, list_items
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.linking import link_policy


def review_items(home: HubHome, status: str = "open", limit: int | None = None) -> list[ReviewEntry]:
    """Review items of this status ("all" for every one), most probable first."""
    with open_sessions(home) as sessions, sessions() as session:
        return list_items(session, status, limit)


def decide_review(home: HubHome, item: int, decision: str) -> LinkOutcome:
    """Store a coordinator's "same" or "different" and re-link the pair under it."""
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session, session.begin():
        return decide(session, item, decision, link_policy(config))
