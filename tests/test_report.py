"""The coordinator's report and the monitoring on a small home: counts, JSON Schema, no identity.

Real files through the real ingest (no Prefect), on SQLite and PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from kim_hub.cli.main import main
from kim_hub.pipeline.reports import PREVIOUS_JSON, REPORT_HTML, REPORT_JSON, collect, make_report, write_reports
from kim_hub.reporting.html import render_html
from kim_hub.reporting.markdown import report_markdown
from kim_hub.reporting.monitoring import monitoring_csv, monitoring_document, parse_period
from tests.support import ROOT, Hub, report_home
from tests.support.data import ABH_GOOD_V11, CLEAR_IDENTITY, REPORT_HEADER

SCHEMA = ROOT / "docs" / "report.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_report_counts_on_a_small_home(hub: Hub) -> None:
    home = report_home(hub).home
    report = make_report(home)
    totals = report["totals"]
    assert (totals["records"], totals["persons"], totals["persons_multi_source"], totals["records_unlinked"]) == (5, 3, 1, 0)
    assert totals["rejected_rows"] == 1
    assert report["persons_by_source_count"] == {"1": 2, "2": 0, "3+": 1}
    overlap = dict(zip(report["overlap"]["sources"], report["overlap"]["matrix"]))
    assert overlap["caritas"] == [3, 1, 1]  # caritas, jobcenter, stadt
    assert overlap["jobcenter"][2] == 1
    # Samira: AsylbLG (Caritas, city) → SGB II (job centre) → left the job centre
    transitions = {(t["from"], t["to"]): t["persons"] for t in report["rechtskreis"]["transitions"]}
    assert transitions == {("AsylbLG", "SGB II"): 1, ("SGB II", "left"): 1}
    # her running cases are AsylbLG; Marta's only case is closed (SGB II); Ahmad AsylbLG
    assert report["rechtskreis"]["persons"] == {"AsylbLG": 2, "SGB II": 1}
    gaps = report["chain_gaps"]["by_district"]
    assert [(g["district"], g["persons"]) for g in gaps] == [("Opladen", 1)]
    assert "exchange" in report["chain_gaps"]["note"]
    quality = {q["source"]: q for q in report["data_quality"]}
    assert quality["caritas"]["birth_date_placeholder_share"] == round(1 / 3, 4)
    assert quality["caritas"]["rejected_rows"] == 1
    assert {r["field"] for r in quality["caritas"]["rejections"]} == {"record_id"}
    assert quality["caritas"]["missing_share"]["azr_number"] == 1.0
    assert quality["caritas"]["missing_share"]["district"] == 0.0
    validator().validate(report)


@pytest.mark.parametrize("kind", ["tod", "ausreise"])
def test_a_person_who_died_or_left_germany_is_no_chain_gap(hub: Hub, kind: str) -> None:
    """Marta's only case is closed (the one gap above); then the authority reports her death or departure."""
    home = report_home(hub).home
    lines = ABH_GOOD_V11.read_text(encoding="utf-8").splitlines()
    message = "\n".join([*lines[:4], lines[-1]]).replace('anzahl="4"', 'anzahl="1"').replace('typ="tod"', f'typ="{kind}"')
    for fixture_value, marta in (
        ("Testenko", "TESTOVA"),
        ("Iryna", "MARTA"),
        ("1961-03-08", "1975-11-02"),
        ("</person>", MARTA_ADDRESS),
    ):
        message = message.replace(fixture_value, marta)
    hub.drop("abh", "ABH_20261124_001.xml", message)
    hub.ingest("abh")
    hub.link()
    report = make_report(home)
    assert report["totals"]["persons"] == 3  # the authority's record joined Marta
    assert report["chain_gaps"]["by_district"] == [] and report["totals"]["chain_gap_persons"] == 0
    assert "died or left Germany" in report["chain_gaps"]["note"]


MARTA_ADDRESS = "<anschrift><postleitzahl>51375</postleitzahl></anschrift></person>"


def test_the_report_lists_nobody_the_hub_may_not_hold_for_kim(hub: Hub) -> None:
    """Marta's only case is closed (the one gap above); then caritas delivers her row without a
    consent: she is counted, but listed by pseudonym nowhere (issue 20, item 2)."""
    home = report_home(hub).home
    marta = "C-2,Testova,Marta,1975-11-02,F,UKR,51375,SGB II,closed,2025-01-10,2026-11-02,Opladen,"
    hub.drop_rows("caritas", "marta.csv", [marta], REPORT_HEADER)
    hub.ingest("caritas")
    hub.link()
    report = make_report(home)
    assert report["totals"]["persons"] == 3
    assert report["chain_gaps"]["by_district"] == [] and report["totals"]["chain_gap_persons"] == 0


def test_published_reports_keep_the_previous_and_show_the_changes(hub: Hub) -> None:
    home = report_home(hub).home
    first = write_reports(home, run={"sources": {}, "linking": None, "records_rejected": 0})
    assert first["changes"] == {"previous_generated_at": None, "counts": []}
    assert (home.reports / REPORT_HTML).exists()
    hub.drop_rows(
        "caritas", "more.csv", ["C-9,Neumann,Jakob,1969-07-21,M,DEU,51377,none,intake,2026-11-21,,Wiesdorf,kim"], REPORT_HEADER
    )
    hub.ingest("caritas")
    hub.link()
    second = write_reports(home)
    assert json.loads((home.reports / PREVIOUS_JSON).read_text())["generated_at"] == first["generated_at"]
    assert json.loads((home.reports / REPORT_JSON).read_text()) == second
    changes = {c["key"]: (c["previous"], c["current"], c["delta"]) for c in second["changes"]["counts"]}
    assert changes["totals.records"] == (5, 6, 1)
    assert changes["records.caritas"] == (3, 4, 1)
    assert changes["rechtskreis.none"] == (None, 1, 1)
    validator().validate(second)


def test_reports_hold_pseudonyms_and_counts_never_clear_identity(hub: Hub) -> None:
    home = report_home(hub).home
    report = write_reports(home)
    texts = {
        "json": (home.reports / REPORT_JSON).read_text(encoding="utf-8"),
        "html": (home.reports / REPORT_HTML).read_text(encoding="utf-8"),
        "html-en": render_html(report, "en"),
        "markdown": report_markdown(report),
    }
    for kind, text in texts.items():
        for value in CLEAR_IDENTITY:
            assert value not in text, f"{value!r} in the {kind} report"
    assert "P-" not in texts["markdown"], "the Prefect artifact carries counts only"
    assert texts["html"].count("<svg") >= 5 and "<script" not in texts["html"]
    assert "Rechtskreiswechsel" in texts["html"] and "Changes of Rechtskreis" in texts["html-en"]


def test_monitoring_suppresses_small_cells_and_leaves_out_the_age_band(hub: Hub) -> None:
    home = report_home(hub).home
    records = collect(home).records
    document = monitoring_document(records, parse_period("2026-Q4"), dt.datetime(2026, 12, 31, tzinfo=dt.UTC))
    assert set(document["tables"]) == {
        "cases_by_case_status",
        "cases_by_rechtskreis",
        "cases_by_district",
        "cases_by_sex",
        "cases_opened",
        "cases_closed",
    }
    assert "age_band" in document["not_reported"]
    cells = [c for t in document["tables"].values() for row in t["cells"] for c in row]
    assert not any(c.isdigit() and 0 < int(c) < 5 for c in cells), "no count of 1 to 4 is published"
    assert "<5" in cells
    assert "Haddad" not in monitoring_csv(document)


def test_monitoring_and_report_commands(hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = report_home(hub).home

    def run(*argv: str) -> int:
        return main(list(argv))

    assert run("monitoring", "--home", str(home.path), "--period", "2026-Q4", "--format", "json", "--threshold", "3") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["threshold"] == 3 and document["period"] == "2026-Q4"
    assert run("report", "--home", str(home.path), "--format", "json", "--out", str(tmp_path / "r.json"), "--lang", "en") == 0
    validator().validate(json.loads((tmp_path / "r.json").read_text()))
    assert not (home.reports / REPORT_JSON).exists(), "--out leaves the published baseline alone"
    assert run("report", "--home", str(home.path)) == 0
    assert (home.reports / REPORT_HTML).exists() and (home.reports / REPORT_JSON).exists()


def test_periods() -> None:
    q4 = parse_period("2026-q4")
    assert (q4.start, q4.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert parse_period("2026-02").end == dt.date(2026, 2, 28)
    assert parse_period("2025").start == dt.date(2025, 1, 1)
    with pytest.raises(ValueError):
        parse_period("Q4/2026")
