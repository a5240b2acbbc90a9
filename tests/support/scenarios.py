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


REVIEW_EVIDENCE = {
    "family_name": "transliteration variant",
    "given_names": "same",
    "birth_date": "same placeholder date; placeholder date in record A; placeholder date in record B",
    "sex": "same",
    "nationality": "shared",
    "birth_place": "absent",
    "address": "different",
    "azr": "absent",
    "jobcenter_no": "absent",
}
"""Evidence in the words ``hub_db.master_index.evidence`` writes (``linkage.compare.LEVELS``)."""


def review_home(hub: Hub) -> dict[str, int]:
    """GOOD at caritas and Samira at the job centre, held for KIM under a statute the installation
    declared (so the queue shows them), and two review items on the stored records: C-1 against
    C-2 (both caritas) and C-2 against the job centre's record. Returns the items' ids by name."""
    from kim_hub.hub_db.models import ReviewItem

    hub.config.legal_bases = {"statute:Testgesetz § 1": "kim"}
    for source in ("caritas", "jobcenter"):
        hub.config.sources[source].legal_basis = "statute:Testgesetz § 1"
    hub.home.save_config(hub.config)
    samira_in_two_sources(hub)
    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        within = ReviewItem(record_a=ids["C-1"], record_b=ids["C-2"], score=0.55, evidence=REVIEW_EVIDENCE)
        across = ReviewItem(
            record_a=ids["C-2"],
            record_b=ids[hub.stored_id("jobcenter", "962D000001")],
            score=0.72,
            evidence={"family_name": "different", "birth_date": "one part differs"},
        )
        session.add_all([within, across])
    return {"caritas": within.id, "across": across.id}
