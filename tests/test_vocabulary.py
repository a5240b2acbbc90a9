"""Closed vocabularies: district, goals and consent recipients are codes of a list, never free text.

A value outside its list costs that value (a note on the receipt, never the value itself), not the
row. All persons and values here are synthetic; ``NAME`` stands for a name typed into a free-text
field, the way a careless sender would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kim_hub.core.errors import ConfigError
from kim_hub.core.rows import RawRow
from kim_hub.exchange.summary import HeldRecord, SharedRecord, summary_for
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.contract import contract_for
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.mappings.vocabulary import (
    DEFAULT_BODIES,
    code_list,
    goal_areas,
    goal_status,
    installation_vocabulary,
    shipped_districts,
)
from kim_hub.pipeline.home import DEFAULT_SOURCES, HubConfig, HubHome
from kim_hub.pipeline.source_check import check_sources
from kim_hub.pipeline.vocabulary import district_list_path, vocabulary
from kim_hub.synth import data as synth_data
from tests.support import Hub

NAME = "Quux Testperson"  # a name typed into a field meant for a code
ROW = {
    "record_id": "C-1",
    "family_name": "Haddad",
    "given_names": "Samira",
    "birth_date": "1988-03-14",
    "district": "Opladen",
    "goals": "sprache:active|arbeit:planned",
    "consent_recipients": "kim|jobcenter",
    "consent_valid_until": "2027-12-31",
}


def mapped(**fields: str) -> CaseSummary:
    result = map_provider_row("caritas", RawRow("c.csv", 4, {**ROW, **fields}))
    assert isinstance(result, CaseSummary), f"the row must land: {result}"
    return result


def notes(summary: CaseSummary) -> dict[str | None, str]:
    return {note.field: note.reason for note in summary.notes}


# --- districts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["Opladen", "OPLADEN", " opladen ", "opladen"])
def test_a_district_is_stored_as_its_code(written: str) -> None:
    summary = mapped(district=written)
    assert summary.case.district == "opladen" and not summary.notes


@pytest.mark.parametrize("written", ["Stadtbezirk I", "Bezirk 1", "stadtbezirk-1", "bezirk-1"])
def test_label_alias_or_code_of_a_district_give_one_code(written: str) -> None:
    assert mapped(district=written).case.district == "bezirk-1"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (NAME, "unknown district code; left out"),
        ("$x^$", "unknown district code; left out"),
        ('=HYPERLINK("http://example.invalid","Opladen")', "unknown district code; left out"),
        ("Opladen\x07", "holds control characters; left out"),
        ("Opladen" * 10, "longer than 64 characters; left out"),
    ],
)
def test_a_district_outside_the_list_is_left_out_and_the_row_lands(written: str, reason: str) -> None:
    summary = mapped(district=written)
    assert summary.case.district is None
    assert notes(summary) == {"district": reason}
    assert written not in reason


def test_the_shipped_list_holds_every_district_the_synthetic_sources_write() -> None:
    """The demo city's districts (synth) stay valid: Stadtteile and Stadtbezirke, by label."""
    written = {d for names in synth_data.DISTRICTS_BY_POSTCODE.values() for d in names}
    written |= set(synth_data.STADTBEZIRK_BY_POSTCODE.values())
    districts = shipped_districts()
    assert {districts.labels[districts.code_of(name)] for name in written} == written


# --- goals -----------------------------------------------------------------------------------------


def test_goal_areas_and_statuses_become_codes() -> None:
    summary = mapped(goals="Sprache:aktiv|work:geplant|Kinderbetreuung:erreicht")
    assert summary.case.goals == {"sprache": "active", "arbeit": "planned", "kinderbetreuung": "achieved"}
    assert not summary.notes


def test_a_goal_outside_its_lists_is_left_out_and_the_others_kept() -> None:
    summary = mapped(goals=f"sprache:active|{NAME}:active|arbeit:{NAME}|language:planned|wohnen:dropped")
    assert summary.case.goals == {"sprache": "active", "wohnen": "dropped"}  # language = sprache, given twice
    assert notes(summary) == {"goals": "a goal outside the goal code list, with an unknown status or given twice; left out"}
    assert NAME not in summary.case.model_dump_json()


def test_goals_that_are_not_printable_or_too_long_are_left_out() -> None:
    assert notes(mapped(goals="sprache:active\x1b[2J")) == {"goals": "holds control characters; left out"}
    assert notes(mapped(goals="|".join(["sprache:active"] * 40))) == {"goals": "longer than 512 characters; left out"}


def test_a_source_that_tightens_goals_rejects_such_a_row() -> None:
    contract = contract_for("provider-csv").tightened({"goals": "reject_row"})
    result = map_provider_row("caritas", RawRow("c.csv", 4, {**ROW, "goals": f"{NAME}:active"}), contract)
    assert isinstance(result, list) and [(r.field, r.row) for r in result] == [("goals", 4)]
    assert NAME not in result[0].reason


def test_every_goal_the_synthetic_sources_write_is_in_the_lists() -> None:
    for area in synth_data.GOAL_FIELDS:
        assert goal_areas().code_of(area) == area  # today's keys are the codes: stored data stays as it is
    for status, _weight in synth_data.GOAL_STATUSES:
        assert goal_status(status) == status


def test_free_text_goals_stored_before_the_lists_never_reach_a_summary() -> None:
    """A record stored by an older hub may hold a name as a goal: the exchange passes on codes only."""
    stored = HeldRecord("caritas", "C-1", {"case_status": "active", "goals": {NAME: "active", "Sprache": "aktiv"}})
    summary = summary_for(HeldRecord("jobcenter", "962D000001", {}), [SharedRecord(stored, frozenset({"identity", "case"}))])
    assert summary is not None
    assert summary["cases_elsewhere"][0]["goals"] == {"sprache": "active"}
    assert NAME not in json.dumps(summary)


# --- consent recipients -------------------------------------------------------------------------------


def test_an_unknown_recipient_is_left_out_and_the_consent_still_holds_for_the_others() -> None:
    summary = mapped(consent_recipients=f"kim|{NAME}|Jobcenter")
    assert summary.case.consent.recipients == ("kim", "jobcenter")
    assert summary.case.consent.valid_until is not None  # narrower, not void
    assert notes(summary) == {"consent_recipients": "a recipient that is neither kim nor a body of this hub; left out"}


def test_recipients_are_the_bodies_of_the_installation() -> None:
    ours = installation_vocabulary(None, ["caritas", "sozialamt"])
    result = map_provider_row("caritas", RawRow("c.csv", 4, {**ROW, "consent_recipients": "sozialamt|awo"}), vocabulary=ours)
    assert isinstance(result, CaseSummary) and result.case.consent.recipients == ("sozialamt",)
    assert set(DEFAULT_BODIES) == set(DEFAULT_SOURCES)  # without an installation: the bodies of `kim-hub init`


# --- the installation's district list -----------------------------------------------------------------

CITY_LIST = "code,label,aliases\n01,Innenstadt,Mitte|Zentrum\n02,Nordstadt,\n03,$x^$,Dollar\n"


def test_an_installation_sets_its_own_districts_in_hub_toml(hub: Hub) -> None:
    hub.use_districts(CITY_LIST)
    assert hub.home.load_config().codes.districts == "codes/districts.csv"  # written and read back
    assert "[codes]" in hub.home.config_file.read_text(encoding="utf-8")
    header = "record_id,family_name,given_names,birth_date,district\n"
    rows = ["C-1,Haddad,Samira,1988-03-14,Zentrum", "C-2,Testova,Marta,1975-11-02,Opladen"]
    hub.drop_rows("caritas", "c.csv", rows, header)
    outcome = hub.ingest("caritas")
    assert outcome.records_accepted == 2  # a district outside the list never costs the row
    receipt = hub.receipt("caritas", "c.csv")
    assert receipt["notes"] == [{"row": 3, "field": "district", "reason": "unknown district code; left out"}]
    assert vocabulary(hub.home, hub.config).districts.labels == {"01": "Innenstadt", "02": "Nordstadt", "03": "$x^$"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("code,label\n,Innenstadt\n", "line 2: a code is 1 to 32"),
        ("code,label\n01,\n", "line 2: a label is 1 to 64 printable"),
        ("code,label\n01,Innen\x07stadt\n", "line 2: a label is 1 to 64 printable"),
        ("code,label\n01,Innenstadt\n01,Nordstadt\n", "line 3: the code appears twice"),
        ("code,label\n01,Innenstadt\n02,INNENSTADT\n", "line 3: one spelling stands for two entries"),
        ("code,label\n", "a code list has 1 to 1000 entries"),
    ],
)
def test_a_district_list_that_breaks_a_rule_is_refused_whole(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        code_list("district", text, "[codes] districts")


def test_a_missing_district_list_fails_the_source_and_its_files_wait(hub: Hub) -> None:
    hub.use_districts(CITY_LIST)
    (hub.path / "codes" / "districts.csv").unlink()
    delivery = hub.drop_rows(
        "caritas", "c.csv", ["C-1,Haddad,Samira,1988-03-14,Mitte"], "record_id,family_name,given_names,birth_date,district\n"
    )
    with pytest.raises(ConfigError, match=r"\[codes\] districts: the file cannot be read \(FileNotFoundError\)"):
        hub.ingest("caritas")
    assert delivery.exists()  # not claimed: read once the operator fixed the list


def test_the_district_setting_is_relative_to_the_home(tmp_path: Path) -> None:
    home = HubHome(tmp_path)
    assert district_list_path(home, HubConfig()) is None  # the shipped list
    configured = HubConfig.model_validate({"codes": {"districts": "codes/bezirke.csv"}})
    assert district_list_path(home, configured) == home.path / "codes" / "bezirke.csv"


def test_sources_check_reports_a_district_list_the_hub_cannot_use(tmp_path: Path) -> None:
    home = HubHome(tmp_path)
    (tmp_path / "inbox" / "caritas").mkdir(parents=True)
    (tmp_path / "districts.csv").write_text("code,label\n01,Innenstadt\n01,Nordstadt\n", encoding="utf-8")
    config = HubConfig.model_validate({"sources": {"caritas": {}}, "codes": {"districts": "districts.csv"}})
    checks = dict(check_sources(home, config)["caritas"])
    assert not checks["district list"].ok and "line 3: the code appears twice" in checks["district list"].detail
    shipped = dict(check_sources(home, HubConfig.model_validate({"sources": {"caritas": {}}}))["caritas"])
    assert shipped["district list"].ok and shipped["district list"].detail == "shipped list"
