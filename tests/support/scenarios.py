"""Small homes that more than one test module starts from, built through the real ingest path."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kim_hub.hub_db.models import SourceRecord
from kim_hub.hub_db.records import add_event
from tests.support.data import GOOD, REPORT_HEADER, REPORT_ROWS, SAMIRA_AT_JOBCENTRE
from tests.support.hub import Hub


def samira_in_two_sources(hub: Hub) -> Hub:
    """GOOD at caritas plus the same Samira at the job centre, ingested and linked."""
    hub.drop_rows("caritas", "c.csv", GOOD)
    hub.drop_rows("jobcenter", "j.csv", [SAMIRA_AT_JOBCENTRE])
    for source in ("caritas", "jobcenter"):
        hub.ingest(source)
    hub.link()
    return hub


def report_home(hub: Hub) -> Hub:
    """Three persons; Samira in three sources, who then leaves the job centre (an Abgang)."""
    for source, rows in REPORT_ROWS.items():
        hub.drop_rows(source, f"{source}.csv", rows, header=REPORT_HEADER)
        hub.ingest(source)
    hub.link()
    with hub.sessions() as session, session.begin():
        at_jobcentre = SourceRecord.record_id == hub.stored_id("jobcenter", "962D000001")
        record = session.execute(select(SourceRecord).where(at_jobcentre)).scalar_one()
        add_event(session, record.id, "abgang", dt.date(2026, 11, 24))
    return hub
