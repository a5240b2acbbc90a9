"""Per-source connector state (e.g. a REST cursor), kept by the hub, not by the connector.

The state is written in the same transaction as the records it covers, so a crash can never
leave a cursor that has moved past records that did not land.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kim_hub.hub_db.models import SourceState


def load_state(session: Session, source: str, connector: str) -> dict[str, Any]:
    row = session.get(SourceState, (source, connector))
    return dict(row.state) if row else {}


def save_state(session: Session, source: str, connector: str, state: dict[str, Any]) -> None:
    row = session.get(SourceState, (source, connector))
    if row is None:
        session.add(SourceState(source=source, connector=connector, state=state))
    else:
        row.state = state
        row.updated_at = dt.datetime.now(dt.UTC)
