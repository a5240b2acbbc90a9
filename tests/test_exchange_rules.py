"""Pure exchange rules: field-by-field consent categories, the outbox files, Rechtskreiswechsel,
what the authority's departures and deaths (schema 1.1) mean for the exchange."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from kim_hub.connectors.outbox import OutboxSink
from kim_hub.core.rows import RawRow
from kim_hub.exchange.consent import ConsentPolicy
from kim_hub.exchange.summary import HeldRecord, consenting, stop_reason, summary_for
from kim_hub.exchange.transitions import transitions_of
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row

TODAY = dt.date(2026, 11, 25)
POLICY = ConsentPolicy(TODAY)


def held(source: str, consent: dict | None = None, **case) -> HeldRecord:
    base = {
        "residence_status": "AE_25_2_GFK",
        "rechtskreis": "SGB II",
        "case_status": "active",
        "case_opened": "2026-02-01",
        "goals": {"sprache": "active"},
        "referrals": [{"to": "sprachkurs", "status": "open"}, {"to": "awo", "status": "done"}],
        "events": [{"kind": "statusaenderung", "on": "2026-03-01", "residence_status": "AE_25_2_GFK"}],
        "updated_at": "2026-11-01",
        "consent": consent if consent is not None else {"recipients": ["kim"]},
    }
    return HeldRecord(source, f"{source}-1", {**base, **case})


def summary(*others: HeldRecord, recipient: str = "jobcenter") -> dict | None:
    me = HeldRecord(recipient, "962D000001", {})
    return summary_for(me, consenting(me, list(others), POLICY))


def test_without_categories_the_whole_summary_is_shared() -> None:
    shared = summary(held("caritas"))
    assert shared["residence_status"] == "AE_25_2_GFK" and shared["rechtskreis"] == "SGB II"
    assert shared["cases_elsewhere"] == [
        {
            "body": "caritas",
            "since": "2026-02-01",
            "closed": None,
            "status": "active",
            "goals": {"sprache": "active"},
            "active": True,
        }
    ]
    assert shared["open_referrals"] == [{"to": "sprachkurs", "status": "open", "by": "caritas"}]  # done ones are not open
    assert shared["rechtskreis_history"] == [
        {"on": "2026-03-01", "kind": "statusaenderung", "body": "caritas", "residence_status": "AE_25_2_GFK"}
    ]


def test_each_category_releases_only_its_fields() -> None:
    only_case = summary(held("caritas", {"recipients": ["kim"], "categories": ["identity", "case"]}))
    assert only_case["residence_status"] is None and only_case["rechtskreis"] is None
    assert only_case["rechtskreis_history"] == [] and only_case["open_referrals"] == []
    assert only_case["cases_elsewhere"][0]["status"] == "active"

    only_residence = summary(held("caritas", {"recipients": ["kim"], "categories": ["residence"]}))
    assert only_residence["residence_status"] == "AE_25_2_GFK"
    assert only_residence["cases_elsewhere"] == [] and only_residence["based_on_consent_of"] == []
    assert "body" not in only_residence["rechtskreis_history"][0]  # no identity: the body stays unnamed

    identity_only = summary(held("caritas", {"recipients": ["kim"], "categories": ["identity"]}))
    assert identity_only["cases_elsewhere"] == [{"body": "caritas", "since": "2026-02-01", "closed": None}]


def test_each_record_is_filtered_by_its_own_consent() -> None:
    shared = summary(
        held("caritas", {"recipients": ["kim"], "categories": ["identity"]}),
        held("stadt", {"recipients": ["jobcenter"]}, case_status="paused", updated_at="2026-10-01"),
        held("awo", {"recipients": ["stadt"]}),  # not for the job centre at all
    )
    assert {c["body"]: c.get("status") for c in shared["cases_elsewhere"]} == {"caritas": None, "stadt": "paused"}
    assert shared["based_on_consent_of"] == ["caritas", "stadt"]


def test_nothing_shareable_means_no_summary() -> None:
    assert summary(held("caritas", {"recipients": ["kim"], "categories": ["referrals"]}, referrals=[])) is None
    assert summary(held("caritas", {"recipients": ["kim"], "purpose": "forschung"})) is None


def test_mapping_reads_the_consent_and_referral_columns() -> None:
    fields = {
        "record_id": "C-1",
        "family_name": "Haddad",
        "given_names": "Samira",
        "consent_recipients": "kim",
        "consent_categories": "Aufenthalt|fall|identität",
        "consent_purpose": "kim",
        "consent_valid_from": "01.02.2026",
        "consent_evidence": "EW-2026-17",
        "referrals": "Sprachkurs:offen|awo:open",
    }
    mapped = map_provider_row("caritas", RawRow("c.csv", 2, fields))
    assert not isinstance(mapped, list), mapped
    consent = mapped.case.consent
    assert consent.categories == ("identity", "residence", "case")
    assert (consent.purpose, consent.evidence_ref, consent.valid_from) == ("kim", "EW-2026-17", dt.date(2026, 2, 1))
    bad = map_provider_row(
        "caritas",
        RawRow(
            "c.csv",
            3,
            {**fields, "consent_categories": "gesundheit", "consent_evidence": "=HYPERLINK(1)", "referrals": "awo:open"},
        ),
    )
    assert isinstance(bad, CaseSummary)  # the person lands; a consent that is not clear in every part is no consent
    assert bad.case.consent.recipients == () and bad.case.referrals[0].to == "awo"
    reasons = {(n.field, n.reason) for n in bad.notes}
    assert ("consent_categories", "unknown consent category code; left out") in reasons
    assert (
        "consent_evidence",
        "starts with =, +, - or @ (a spreadsheet formula) or holds control characters; left out",
    ) in reasons
    assert "gesundheit" not in json.dumps([n.reason for n in bad.notes])


def test_a_referral_of_unknown_status_is_left_out_with_a_note() -> None:
    fields = {"record_id": "C-1", "family_name": "Haddad", "given_names": "Samira", "referrals": "awo:vielleicht"}
    mapped = map_provider_row("caritas", RawRow("c.csv", 2, fields))
    assert isinstance(mapped, CaseSummary) and mapped.case.referrals == ()
    assert [(n.field, n.reason) for n in mapped.notes] == [("referrals", "unknown referral status code; left out")]


def test_outbox_writes_json_and_one_csv_per_delivery_and_forgets_erased_records(tmp_path: Path) -> None:
    sink = OutboxSink(tmp_path / "summaries")
    documents = [
        {
            "kind": "summary",
            "record_id": "C-1",
            "residence_status": "AE_25_2_GFK",
            "cases_elsewhere": [{"body": "jobcenter", "status": "active", "since": "2026-01-15"}],
        },
        {"kind": "withdrawal", "record_id": "C-2", "notice": "=cmd|' /C calc'!A0"},
    ]
    assert sink.push(documents) == 2
    (sink.folder / ".tmp-killed").write_text("half a summary")  # what a killed push leaves
    assert sink.push(documents) == 2  # the same delivery again: same files, no second CSV
    assert not (sink.folder / ".tmp-killed").exists()
    assert sorted(p.name for p in sink.folder.glob("*.json")) == ["C-1.summary.json", "C-2.withdrawal.json"]
    tables = list(sink.folder.glob("summaries-*.csv"))
    assert len(tables) == 1
    rows = list(csv.DictReader(io.StringIO(tables[0].read_text())))
    assert rows[0]["cases_elsewhere"] == "jobcenter:active:2026-01-15:" and rows[1]["notice"].startswith("'=")
    assert sink.forget("C-1") == 2  # its JSON and its CSV row
    assert [r["record_id"] for r in csv.DictReader(io.StringIO(tables[0].read_text()))] == ["C-2"]


def test_transitions_are_the_reported_changes_with_what_came_before() -> None:
    records = [
        HeldRecord(
            "stadt",
            "KI-1",
            {"rechtskreis": "AsylbLG", "residence_status": "GESTATTUNG", "updated_at": "2025-06-01", "district": "Mitte"},
        ),
        HeldRecord(
            "abh",
            "keyed-1",
            {
                "residence_status": "AE_25_2_GFK",
                "updated_at": "2026-03-01",
                "events": [{"kind": "statusaenderung", "on": "2026-03-01", "residence_status": "AE_25_2_GFK"}],
            },
        ),
        HeldRecord(
            "jobcenter",
            "962D1",
            {
                "rechtskreis": "SGB II",
                "updated_at": "2026-04-10",
                "events": [{"kind": "zugang", "on": "2026-04-10"}, {"kind": "abgang", "on": "2026-10-01"}],
            },
        ),
    ]
    found = [(t.on.isoformat(), t.kind, t.before, t.after) for t in transitions_of("P-1", records)]
    assert found == [
        ("2026-03-01", "statusaenderung", "GESTATTUNG", "AE_25_2_GFK"),
        ("2026-04-10", "zugang", "AsylbLG", "SGB II"),
        ("2026-10-01", "abgang", "SGB II", "left"),
    ]
    assert {t.district for t in transitions_of("P-1", records)} == {"Mitte"}
    assert transitions_of("P-2", [records[0]]) == []  # nothing reported, nothing listed


def authority_report(kind: str, on: str = "2026-11-20") -> HeldRecord:
    """The authority's record after a message of ``kind`` (as mappings/abh_xml.py stores it)."""
    event = {"kind": kind, "on": on}
    return HeldRecord("abh", f"keyed-{kind}", {"case_status": "closed", "case_closed": on, "updated_at": on, "events": [event]})


def test_a_death_stops_everything_and_says_so_before_a_withdrawal() -> None:
    alive = [held("caritas"), held("stadt")]
    assert stop_reason(alive, TODAY) is None
    assert stop_reason([*alive, authority_report("tod")], TODAY) == "death"
    withdrew = held("awo", {"recipients": ["kim"], "withdrawn_at": "2026-11-01"})
    assert stop_reason([*alive, withdrew], TODAY) == "withdrawal"
    assert stop_reason([*alive, withdrew, authority_report("tod")], TODAY) == "death"  # final, and the true reason
    for kind in ("ausreise", "zustaendigkeitswechsel", "wegzug"):  # the case leaves the city; the exchange goes on
        assert stop_reason([*alive, authority_report(kind)], TODAY) is None


def test_departures_are_shared_as_identity_facts_and_a_death_is_never_listed() -> None:
    caritas = held(
        "caritas", events=[{"kind": "ausreise", "on": "2026-11-20"}, {"kind": "zustaendigkeitswechsel", "on": "2026-11-10"}]
    )
    history = summary(caritas)["rechtskreis_history"]
    assert [(e["kind"], e["body"]) for e in history] == [("zustaendigkeitswechsel", "caritas"), ("ausreise", "caritas")]
    residence_only = held(
        "caritas", {"recipients": ["kim"], "categories": ["residence"]}, events=[{"kind": "ausreise", "on": "2026-11-20"}]
    )
    assert summary(residence_only)["rechtskreis_history"] == []  # a whereabouts fact needs identity
    dead = held("caritas", events=[{"kind": "tod", "on": "2026-11-20"}, {"kind": "statusaenderung", "on": "2026-03-01"}])
    assert [e["kind"] for e in summary(dead)["rechtskreis_history"]] == ["statusaenderung"]  # no category: never listed


def test_departures_and_deaths_are_no_change_of_framework() -> None:
    records = [held("stadt", events=[]), *(authority_report(kind) for kind in ("tod", "ausreise", "zustaendigkeitswechsel"))]
    assert transitions_of("P-1", records) == []


def test_a_person_out_of_reach_leaves_the_transitions_worklist() -> None:
    """Dead, or left Germany and not back: none of the person's changes is listed any more; a
    move inside Germany or to another authority is no reason to drop them (as for the gaps)."""
    recognition = {"kind": "statusaenderung", "on": "2026-03-01", "residence_status": "AE_25_2_GFK"}
    stadt = HeldRecord("stadt", "KI-1", {"residence_status": "GESTATTUNG", "updated_at": "2025-06-01"})

    def changes(*later: dict[str, str]) -> list[str]:
        abh = HeldRecord("abh", "keyed-1", {"updated_at": "2026-11-20", "events": [recognition, *later]})
        return [t.after for t in transitions_of("P-1", [stadt, abh])]

    assert changes() == ["AE_25_2_GFK"]
    assert changes({"kind": "tod", "on": "2026-11-20"}) == []
    assert changes({"kind": "ausreise", "on": "2026-11-20"}) == []
    assert changes({"kind": "ausreise", "on": "2026-10-01"}, {"kind": "zuzug", "on": "2026-11-20"}) == ["AE_25_2_GFK"]
    assert changes({"kind": "zustaendigkeitswechsel", "on": "2026-11-20"}) == ["AE_25_2_GFK"]
    assert changes({"kind": "wegzug", "on": "2026-11-20"}) == ["AE_25_2_GFK"]
