"""The review queue as a service: list uncertain pairs, decide one (``hub_db.review`` stores them).

A coordinator sees only pairs with a record of a person the hub may hold for KIM, and of the other
record, when its person is held only for linkage, the source alone (``exchange.legal_basis``);
what the list does not show cannot be decided. A decision binds the clustering from then on and
re-links both records at once, under the thresholds of the home's ``[linkage]``. Listing the
queue shows records and persons: it is a read in the audit log (``pipeline.audit``) of what was
shown (a withheld record is not named), a decision a change (written by ``hub_db.review``).
"""

from __future__ import annotations

from kim_hub.core.access import Access
from kim_hub.hub_db.audit_log import person_objects, record_objects, review_object
from kim_hub.hub_db.legal_basis import held_pseudonyms
from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.hub_db.review import WITHHELD, ReviewEntry, decide, list_items
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.linking import link_policy


def review_items(
    home: HubHome, status: str = "open", limit: int | None = None, access: Access | None = None
) -> list[ReviewEntry]:
    """Review items of this status ("all" for every one) a coordinator may see, most probable first."""
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        with sessions() as session:
            held = held_pseudonyms(session, source_bases(config), kim_policy(config))
            items = list_items(session, status, limit, held)
            shown = [side for item in items for side in (item.a, item.b) if side[1] != WITHHELD]
            objects = [
                *(review_object(item.id) for item in items),
                *record_objects(session, [(side[0], side[1]) for side in shown]),
                *person_objects(session, [side[2] for side in shown]),
            ]
        record_read(sessions, config, "review.list", objects, access, {"status": status, "items": len(items)})
    return items


def decide_review(home: HubHome, item: int, decision: str) -> LinkOutcome:
    """Store a coordinator's "same" or "different" and re-link the pair under it (an item the
    list would not show is refused as if it did not exist)."""
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session, session.begin():
        held = held_pseudonyms(session, source_bases(config), kim_policy(config))
        return decide(session, item, decision, link_policy(config), held)
