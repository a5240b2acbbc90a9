"""An incident told per controller, and a controller's share of the audit log (issue 20, item 5;
SDM module 50), through the real CLI on SQLite and PostgreSQL.

The test incident: deliveries from caritas (Samira, whose consent names the job centre, and
Marta), the job centre (Samira) and diakonie (Ahmad, Yara); a sync; the push of Samira's summary
to the job centre; a review list read (Samira and Marta at caritas); the erasure of Yara at
diakonie. Stadt and AWO hold nothing: `kim-hub incident` lists every declared controller and
marks these two as not affected.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import ChainKey
from kim_hub.hub_db.keystore import load_audit_key
from kim_hub.hub_db.models import ReviewItem, SourceRecord
from kim_hub.pipeline.audit import AuditFilter, list_entries
from kim_hub.pipeline.erasure import erase
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, default_source
from kim_hub.pipeline.incident import as_json, incident_report
from kim_hub.pipeline.review import review_items
from tests.support import Hub, run_cli
from tests.support.data import EXCHANGE_HEADER, SAMIRA_AT_JOBCENTRE, TODAY, person_at

MARTA = "C-2,Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,active,2026-01-15,,,2026-11-20"
DIAKONIE = [
    "D-1,Rahimi,Ahmad,1990-01-01,M,AFG,Testweg 3,51377,,active",
    "D-2,Quux,Yara,1993-03-07,F,SYR,Testweg 7,51373,,active",
]


def the_incident(hub: Hub) -> dt.datetime:
    """Do what the module docstring says; return a time before all of it."""
    hub.config.legal_bases = {"statute:Testgesetz § 1": "kim"}  # the review list shows caritas' persons
    hub.config.sources["caritas"].legal_basis = "statute:Testgesetz § 1"
    hub.home.save_config(hub.config)
    before = dt.datetime.now(dt.UTC)
    hub.drop("caritas", "c.csv", EXCHANGE_HEADER + person_at("C-1", consent="jobcenter") + "\n" + MARTA + "\n")
    hub.drop_rows("jobcenter", "j.csv", [SAMIRA_AT_JOBCENTRE])
    hub.drop_rows("diakonie", "d.csv", DIAKONIE)
    hub.sync()
    assert hub.push(TODAY).summaries_sent == 1  # Samira's caritas record, to her job-centre record
    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        session.add(ReviewItem(record_a=ids["C-1"], record_b=ids["C-2"], score=0.55, evidence={"family_name": "different"}))
    assert len(review_items(hub.home)) == 1
    assert erase(hub.home, hub.sessions, "diakonie", "D-2").records_erased == 1
    return before


def counts(share: dict) -> dict:
    """A controller's counts as a flat dict, for one comparison."""
    return {
        "held": (share["records_held"]["count"], share["records_held"]["at_most"]),
        "taken_in": (share["taken_in"]["files"], share["taken_in"]["records"]),
        "read": (share["read"]["records"], share["read"]["persons"]),
        "changed": share["changed"]["records"],
        "erased": (share["erased"]["records"], share["erased"]["delivered_files"]),
        "sent": share["transfers"]["sent"],
        "received": share["transfers"]["received"],
        "persons": (share["persons_concerned"]["count"], share["persons_concerned"]["at_least"]),
    }


NOTHING = {
    "held": (0, False),
    "taken_in": (0, 0),
    "read": (0, 0),
    "changed": 0,
    "erased": (0, 0),
    "sent": 0,
    "received": 0,
    "persons": (0, False),
}
EXPECTED = {
    # two records in, both read in the review list (Samira and Marta), Samira's sent to the job centre
    "caritas": NOTHING | {"held": (2, False), "taken_in": (1, 2), "read": (2, 2), "sent": 1, "persons": (2, False)},
    # one record in; the review list showed Samira, a job-centre person too; her summary received
    "jobcenter": NOTHING | {"held": (1, False), "taken_in": (1, 1), "read": (0, 1), "received": 1, "persons": (1, False)},
    # two records in, Yara erased (her delivery with her): held at most 2, her person no longer known
    "diakonie": NOTHING | {"held": (2, True), "taken_in": (1, 2), "erased": (1, 1), "persons": (1, True)},
    "stadt": NOTHING,
    "awo": NOTHING,
}
SUPERVISORS = {
    "caritas": ("kdg", "kdsz-dortmund"),
    "jobcenter": ("sgb-x", "bfdi"),
    "diakonie": ("dsg-ekd", "bfd-ekd"),
    "stadt": ("dsgvo-dsg-nrw", "ldi-nrw"),
    "awo": ("dsgvo-dsg-nrw", "ldi-nrw"),
}


def test_an_incident_names_each_affected_controller_its_supervisor_and_what_was_touched_and_each_gets_its_share(hub: Hub) -> None:
    before = the_incident(hub)
    result = run_cli("incident", "--since", before.isoformat(), "--format", "json", home=hub.path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    shares = {share["controller"]: share for share in report["controllers"]}
    assert [c for c, share in shares.items() if share["affected"]] == ["jobcenter", "caritas", "diakonie"]
    assert {c: (share["regime"]["code"], share["supervisor"]["code"]) for c, share in shares.items()} == SUPERVISORS
    assert {c: counts(share) for c, share in shares.items()} == EXPECTED
    assert shares["caritas"]["supervisor"]["name"] == "Katholisches Datenschutzzentrum (KdöR), Dortmund"
    assert "§ 33 KDG" in shares["caritas"]["notification"] and "§ 83a SGB X" in shares["jobcenter"]["notification"]
    assert shares["caritas"]["transfers"]["categories_sent"] == shares["jobcenter"]["transfers"]["categories_received"]
    assert "case" in shares["caritas"]["transfers"]["categories_sent"]
    assert report["controller_not_declared"] == [] and report["whole_platform"] == {}
    text = json.dumps(report)
    assert not any(clear in text for clear in ("Haddad", "Samira", "C-1", "D-2", "962D000001", "P-"))

    audited = run_cli("audit", "--controller", "caritas", "--limit", "0", "--format", "json", home=hub.path)
    share = json.loads(audited.stdout)
    actions = [entry["action"] for entry in share]
    key = ChainKey(load_audit_key(hub.home.key_dir(hub.config)))
    assert {"ingest.file", "review.list", "transfer.summary"} <= set(actions)
    assert "erase.records" not in actions and "copies.purge" not in actions, "diakonie's erasure is not caritas'"
    assert not any(o.startswith("file:diakonie:") or o.startswith("file:jobcenter:") for e in share for o in e["objects"])
    ingested = [e for e in share if e["action"] == "ingest.file"]
    assert [o.split(":")[1] for e in ingested for o in e["objects"]] == ["caritas"]
    assert key.record("caritas", "C-1") in next(e for e in share if e["action"] == "transfer.summary")["objects"]
    platform = [e for e in share if e["whole_platform"]]
    assert {e["action"] for e in platform} == {"init", "incident.report"}, "admin actions are every controller's"
    assert all(not e["whole_platform"] for e in share if e["action"] != "init" and e["action"] != "incident.report")
    reported = next(e for e in platform if e["action"] == "incident.report")
    assert reported["channel"] == "admin" and reported["detail"]["controllers_affected"] == 3
    assert set(reported["detail"]) == {"since", "until", "entries", "controllers_affected", "sources_not_declared"}

    # the share combines with the other filters, and each listing is logged (the filter, not the share's tokens)
    diakonie = list_entries(hub.home, AuditFilter(controller="diakonie", since=before), None)
    assert [e.action for e in diakonie if e.channel != "admin"] == ["copies.purge", "erase.records", "ingest.file"]
    only_reads = list_entries(hub.home, AuditFilter(controller="jobcenter", channel="read", since=before), None)
    assert [e.action for e in only_reads] == ["review.list"], "the review list showed Samira, a job-centre person"
    assert list_entries(hub.home, AuditFilter(controller="awo", channel="input", since=before), None) == []
    newest = list_entries(hub.home, AuditFilter(controller="caritas", since=before), 1)
    assert len(newest) == 1 and newest[0].action == "audit.list"  # the listings just made: whole-platform entries
    logged = list_entries(hub.home, AuditFilter(action="audit.list"), None)
    assert {e.detail["filter"].get("controller") for e in logged} >= {"diakonie", "jobcenter", "awo", "caritas"}
    assert all("share" not in e.detail["filter"] for e in logged), "the person tokens are not written into the log"
    with pytest.raises(ConfigError, match="--controller must name a controller declared in hub.toml: stadt, jobcenter"):
        list_entries(hub.home, AuditFilter(controller="unbekannt"))


def test_an_older_home_without_controllers_lists_its_sources_as_not_declared(hub: Hub) -> None:
    older = HubConfig(database_url=hub.config.database_url, sources={n: default_source(n) for n in DEFAULT_SOURCES})
    hub.home.save_config(older)  # hub.toml as written before controllers: no [controllers], no source names one
    hub.config = older
    before = dt.datetime.now(dt.UTC)
    hub.drop_rows("diakonie", "d.csv", DIAKONIE)
    hub.sync()
    report = as_json(incident_report(hub.home, before))
    assert report["controllers"] == []
    undeclared = {share["source"]: share for share in report["controller_not_declared"]}
    assert list(undeclared) == sorted(DEFAULT_SOURCES)
    assert counts(undeclared["diakonie"]) == NOTHING | {"held": (2, False), "taken_in": (1, 2), "persons": (2, False)}
    with pytest.raises(ConfigError, match="no controller is declared in hub.toml: declare each under"):
        list_entries(hub.home, AuditFilter(controller="caritas"))
    text = run_cli("incident", "--since", before.isoformat(), home=hub.path).stdout
    assert "no controller is declared in hub.toml" in text and "controller not declared" in text
    assert "  source diakonie\n    records held       2\n    taken in           1 files, 2 records" in text
