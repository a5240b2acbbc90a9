"""Small homes that more than one test module starts from, built through the real ingest path."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from kim_hub.hub_db.models import SourceRecord
from kim_hub.hub_db.records import add_event
from kim_hub.pipeline.home import HubHome
from tests.support.data import GOOD, REPORT_HEADER, REPORT_ROWS, SAMIRA_AT_JOBCENTRE, TODAY, exchange_csv, person_at
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


COORDINATOR_DISTRICTS = 'code,label,aliases\nnord,"=HYPERLINK(""http://example.invalid"")",Norden\nsued,Süd,\n'
"""Two districts; the first one's label reads as a formula in a spreadsheet (the installation's list
may say anything printable), so every CSV of the coordinator's pages must keep it text."""

COORDINATOR_ROWS = [
    "C-1,Haddad,Samira,1988-03-14,F,SYR,51373,AsylbLG,closed,2025-01-10,2026-06-01,nord,kim",
    "C-2,Testova,Marta,1975-11-02,F,UKR,51375,AsylbLG,closed,2025-02-10,2026-07-01,Süd,kim",
    "C-3,Rahimi,Ahmad,01.01.1990,M,AFG,51377,AsylbLG,closed,2025-03-10,2026-08-01,,kim",
]
"""Three persons at caritas (REPORT_HEADER), each with a closed case and none active since: a chain
gap in nord, in Süd and in no district (the unknown one)."""


def coordinator_home(hub: Hub) -> dict[str, str]:
    """The district list ``COORDINATOR_DISTRICTS`` and the three persons of ``COORDINATOR_ROWS``,
    each entering SGB II on 2026-10-01 (a Rechtskreis transition: AsylbLG → SGB II). Returns each
    district key's pseudonym (``nord``, ``sued``, ``_unknown``)."""
    hub.use_districts(COORDINATOR_DISTRICTS)
    hub.drop_rows("caritas", "caritas.csv", COORDINATOR_ROWS, header=REPORT_HEADER)
    hub.ingest("caritas")
    hub.link()
    with hub.sessions() as session, session.begin():
        for record in session.execute(select(SourceRecord)).scalars():
            add_event(session, record.id, "zugang", dt.date(2026, 10, 1))
    pseudonyms = hub.pseudonyms()
    keys = {"C-1": "nord", "C-2": "sued", "C-3": "_unknown"}
    return {keys[record_id]: pseudonym for (_source, record_id), pseudonym in pseudonyms.items() if pseudonym}


def collecting(hub: Hub, *bodies: str) -> Hub:
    """The bodies set to collect over the API in hub.toml (and in the hub's own configuration)."""
    sources = dict(hub.config.sources)
    for body in bodies:
        sources[body] = sources[body].model_copy(update={"summaries": "collect"})
    hub.config = hub.config.model_copy(update={"sources": sources})
    hub.home.save_config(hub.config)
    assert HubHome(hub.path).load_config().sources[bodies[0]].collects  # hub.toml keeps the setting
    return hub


def samira_pushed(hub: Hub) -> Hub:
    """Samira at caritas and the job centre, both consenting to kim, linked and pushed once."""
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()
    hub.push(TODAY)
    return hub


def outbox_documents(hub: Hub, body: str) -> list[dict[str, Any]]:
    folder = hub.home.outbox(body, "summaries")
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "sent_at"}
