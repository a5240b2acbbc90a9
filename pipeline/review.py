"""The review queue as a service: list uncertain pairs, decide one (``hub_db.review`` stores them).

A decision binds the clustering from then on and re-links both records at once, under the
thresholds of the home's ``[linkage]``. Listing the queue shows records and persons: it is a
read in the audit log (``pipeline.audit``), a decision a change (written by ``hub_db.review``).
"""

from __future__ import annotations

from kim_hub.core.access import Access
from kim_hub.hub_db.audit_log import person_objects, record_objects, review_object
from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.hub_db.review import ReviewEntry, decide, list_items
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.linking import link_policy


def review_items(
    home: HubHome, status: str = "open", limit: int | None = None, access: Access | None = None
) -> list[ReviewEntry]:
    """Review items of this status ("all" for every one), most probable first."""
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session:
            items = list_items(session, status, limit)
            objects = [
                *(review_object(item.id) for item in items),
                *record_objects(session, [(side[0], side[1]) for item in items for side in (item.a, item.b)]),
                *person_objects(session, [side[2] for item in items for side in (item.a, item.b)]),
            ]
        record_read(sessions, config, "review.list", objects, access, {"status": status, "items": len(items)})
    return items


def decide_review(home: HubHome, item: int, decision: str) -> LinkOutcome:
    """Store a coordinator's "same" or "different" and re-link the pair under it."""
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session, session.begin():
        return decide(session, item, decision, link_policy(config))
