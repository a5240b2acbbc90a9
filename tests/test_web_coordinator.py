"""The coordinator's pages of the web application (issue 21, item 4): the chain gaps and Rechtskreis
transitions of its districts, on the page and as CSV, the report served live and the monitoring
export; scoped by district, 404 outside the grant and for every other role, each read audited.

One home for the module (tests.support.coordinator_home: two districts and the unknown one, one
person each), through FastAPI's TestClient; the browser walk is
tests/e2e/test_web_coordinator_browser.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kim_hub.hub_db.audit_log import person_objects
from kim_hub.hub_db.models import AuditEntry
from kim_hub.pipeline.reports import make_report, monitoring_export
from kim_hub.pipeline.web_users import add_user
from kim_hub.reporting.html import render_html
from kim_hub.web.app import create_app
from kim_hub.web.routes_coordinator import ICON
from tests.support import Hub, coordinator_home, sqlite_url
from tests.support.data import CLEAR_IDENTITY
from tests.support.web import PASSWORD, main_of, signed_in

FORMULA_LABEL = '=HYPERLINK("http://example.invalid")'


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, str]]]:
    """The module's home and each district key's pseudonym; kora is granted nord, kai every district."""
    folder = tmp_path_factory.mktemp("coordinator")
    hub = Hub.create(folder / "home", sqlite_url(folder / "hub.db"))
    persons = coordinator_home(hub)
    add_user(hub.home, "kora", "coordinator", PASSWORD, districts=["nord"])
    add_user(hub.home, "kai", "coordinator", PASSWORD)
    add_user(hub.home, "anna", "reviewer", PASSWORD)
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "otto", "operator", PASSWORD)
    yield hub, persons
    hub.close()


def table_rows(page: str) -> list[list[str]]:
    """The cells of the worklist table, as the reader sees them."""
    body = re.search(r'<table data-testid="worklist">.*?<tbody>(.*?)</tbody>', page, re.S)
    if body is None:
        return []
    return [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", body.group(1))
    ]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def entries(hub: Hub, action: str, actor: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.actor == actor).order_by(AuditEntry.id)
    with hub.sessions() as session:
        return list(session.execute(query).scalars())


def test_a_coordinator_sees_the_worklists_of_its_districts_and_any_other_district_does_not_exist(
    home: tuple[Hub, dict[str, str]],
) -> None:
    hub, persons = home
    kora, kai = signed_in(hub, "kora"), signed_in(hub, "kai")
    assert kora.get("/").headers["location"] == "/gaps"
    missing = kora.get("/no-such-page")
    for name in ("gaps", "transitions"):
        own = kora.get(f"/{name}")
        assert own.status_code == 200
        assert [row[1] for row in table_rows(own.text)] == [persons["nord"]]  # nord only, by pseudonym
        assert persons["sued"] not in own.text and persons["_unknown"] not in own.text
        assert [row[1] for row in table_rows(kora.get(f"/{name}/nord").text)] == [persons["nord"]]
        for path in (f"/{name}/sued", f"/{name}/_unknown", f"/{name}/atlantis", f"/{name}/sued/csv", f"/{name}/_unknown/csv"):
            answer = kora.get(path)
            assert (answer.status_code, main_of(answer.text)) == (404, main_of(missing.text)), path
        every = kai.get(f"/{name}")  # granted no district: every district, and the unknown one
        assert sorted(row[1] for row in table_rows(every.text)) == sorted(persons.values())
        assert [row[0] for row in table_rows(kai.get(f"/{name}/_unknown").text)] == ["unbekannt"]
        assert kai.get(f"/{name}/atlantis").status_code == 404
        for page in (own.text, every.text):
            assert not any(name in page for name in CLEAR_IDENTITY)
    gap = table_rows(kora.get("/gaps").text)[0]
    assert gap == [FORMULA_LABEL, persons["nord"], "Zugang SGB II", "2026-10-01", "caritas"]  # what came before, who knows
    change = table_rows(kora.get("/transitions").text)[0]
    assert change == [FORMULA_LABEL, persons["nord"], "2026-10-01", "Zugang SGB II", "AsylbLG", "SGB II", "caritas"]
    assert "entered SGB II" in kora.get("/gaps", params={"lang": "en"}).text


def test_the_csv_export_holds_the_rows_of_the_page_spreadsheet_safe_and_is_audited_as_an_export(
    home: tuple[Hub, dict[str, str]],
) -> None:
    hub, persons = home
    kai, kora = signed_in(hub, "kai"), signed_in(hub, "kora")
    for client, page_path, csv_path in (
        (kai, "/gaps", "/gaps/_all/csv"),
        (kai, "/transitions/sued", "/transitions/sued/csv"),
        (kora, "/gaps", "/gaps/_all/csv"),
        (kora, "/transitions/nord", "/transitions/nord/csv"),
    ):
        shown = table_rows(client.get(page_path).text)
        answer = client.get(csv_path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert answer.headers["content-disposition"].startswith("attachment; filename=")
        header, *rows = csv_rows(answer.text)
        assert header[:2] == ["Bezirk", "Pseudonym"]
        unquoted = [[cell[1:] if cell.startswith("'=") else cell for cell in row] for row in rows]
        assert unquoted == shown and rows, csv_path  # the rows of the page, nothing more
        assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    exported = csv_rows(kai.get("/gaps/_all/csv").text)
    assert ["'" + FORMULA_LABEL, persons["nord"]] == exported[1][:2]  # the formula stays text
    (first, *_more) = entries(hub, "gaps.export", "web:kora")
    assert first.channel == "read" and first.detail["role"] == "coordinator" and first.detail["districts"] == ["nord"]
    assert first.detail["findings"] == 1 and first.detail["worklist_district"] == "_all"
    with hub.sessions() as session:
        assert first.objects == person_objects(session, [persons["nord"]])
    shown = entries(hub, "gaps.list", "web:kora")
    assert shown and all(e.channel == "read" and e.detail["role"] == "coordinator" for e in shown)
    assert entries(hub, "transitions.export", "web:kai")[0].detail["worklist_district"] == "sued"
    assert not any(name in str((e.objects, e.detail)) for e in (first, *shown) for name in CLEAR_IDENTITY)


COORDINATOR_PAGES = (
    "/gaps",
    "/gaps/nord",
    "/gaps/_all/csv",
    "/transitions",
    "/transitions/nord/csv",
    "/report",
    "/monitoring",
    "/monitoring?period=2026",
)


def test_reviewers_providers_and_operators_find_no_coordinator_page(home: tuple[Hub, dict[str, str]]) -> None:
    hub, _persons = home
    coordinator = signed_in(hub, "kora")
    assert [coordinator.get(path).status_code for path in COORDINATOR_PAGES] == [200] * len(COORDINATOR_PAGES)
    for name in ("anna", "carla", "otto"):  # the same addresses, for every other role: not there
        client = signed_in(hub, name)
        missing = client.get("/no-such-page")
        for path in COORDINATOR_PAGES:
            answer = client.get(path)
            assert (answer.status_code, main_of(answer.text)) == (404, main_of(missing.text)), (name, path)
    stranger = TestClient(create_app(hub.home), follow_redirects=False)
    assert stranger.get("/gaps/_all/csv").headers["location"] == "/sign-in"


def test_the_report_is_served_live_with_the_figures_of_the_file_report_and_only_its_own_styles(
    home: tuple[Hub, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, persons = home
    moment = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("kim_hub.pipeline.reports.now", lambda: moment)
    kai, kora = signed_in(hub, "kai"), signed_in(hub, "kora")
    page = kai.get("/report")
    file_report = render_html(make_report(hub.home, lang="de"), "de")
    assert page.status_code == 200 and page.text == file_report.replace("<head>", f"<head>{ICON}", 1)
    assert all(pseudonym in page.text for pseudonym in persons.values())
    policy = page.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy and "script" not in policy
    assert policy.startswith("default-src 'none'") and "frame-ancestors 'none'" in policy
    assert kai.get("/gaps").headers["content-security-policy"].startswith("default-src 'self'")  # the others keep theirs
    limited = kora.get("/report").text  # other districts' gaps: counted, not listed
    assert persons["nord"] in limited and persons["sued"] not in limited and persons["_unknown"] not in limited
    shown = entries(hub, "report.show", "web:kora")[-1]
    assert shown.channel == "read" and shown.detail["role"] == "coordinator" and shown.detail["persons_listed"] == 1
    assert entries(hub, "report.show", "web:kai")[-1].detail["persons_listed"] == 3


def test_the_monitoring_export_is_the_one_the_command_line_writes(home: tuple[Hub, dict[str, str]], tmp_path: Path) -> None:
    hub, _persons = home
    kai = signed_in(hub, "kai")
    form = kai.get("/monitoring")
    assert form.status_code == 200 and 'name="period"' in form.text
    answer = kai.get("/monitoring", params={"period": "2026"})
    assert answer.status_code == 200 and answer.headers["content-disposition"] == 'attachment; filename="monitoring-2026.csv"'
    assert answer.text == monitoring_export(hub.home, "2026", lang="de").text
    assert csv_rows(answer.text)[0] == ["period", "table", "row", "column", "value"]
    refused = kai.get("/monitoring", params={"period": "gestern"})
    assert refused.status_code == 400 and "2026-Q4" in refused.text
    views = [e.detail for e in entries(hub, "web.view", "web:kai") if e.detail["page"].startswith("monitoring")]
    assert [(v["page"], v.get("period")) for v in views] == [("monitoring", None), ("monitoring.export", "2026")]
