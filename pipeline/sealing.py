"""Sealing the encodings a database stored in clear before they were sealed: the upgrade step.

An installation upgraded from a release that stored its encodings as clear JSON gets them sealed
by `kim-hub init` (which an upgrade runs anyway) and by `kim-hub restore` (a backup from before
sealing), in one transaction, each under its own key version (``hub_db.sealed_encodings``).
Until then they are read as they are, so nothing stops working meanwhile. The change channel of
the audit log records how many were sealed (a count, never a record).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.audit_log import append
from kim_hub.hub_db.sealed_encodings import keyring_of, seal_clear_encodings


def seal_stored_encodings(sessions: sessionmaker[Session]) -> int:
    """Seal every encoding still stored in clear; returns how many were (0: nothing to do)."""
    with sessions() as session, session.begin():
        sealed = seal_clear_encodings(session, keyring_of(session))
        if sealed:
            append(session, "change", "encodings.seal", (), {"records": sealed})
        return sealed
