"""The coordinator's pages: the chain gaps and Rechtskreis transitions of its districts (on the
page and as CSV), the report served live, and the state's monitoring export.

A coordinator granted districts (``--district``) sees the findings of those only; any other
district, and the unknown one (findings whose district the list does not hold), does not exist for
it. An account without districts sees every district and the unknown one. Persons appear by
pseudonym only, with what came before (the trigger of a gap, the status before a change) and the
bodies that know them. Every list and every export is a read in the audit log as the user
(``pipeline.worklists``), the report too (``pipeline.reports.live_report``); the monitoring export
holds counts only and is logged as a page view. A CSV carries exactly the rows the page shows,
each cell spreadsheet-safe (``core.cells``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from kim_hub.core.cells import spreadsheet_safe
from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.audit import record_view
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.reports import live_report, monitoring_export
from kim_hub.pipeline.web_sessions import SignedIn
from kim_hub.pipeline.worklists import District, Reader, chain_gaps, rechtskreis_transitions, worklist_districts
from kim_hub.web.context import context_of, in_role, language, not_found
from kim_hub.web.i18n import texts
from kim_hub.web.security import CSV_TYPE, inline_styles_policy

router = APIRouter()
ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
ALL = "_all"  # the CSV of every district the user is granted (a code never starts with "_")


@dataclass(frozen=True)
class Worklist:
    """One worklist as pages show it: its title, its columns and how a finding becomes a row."""

    title: str  # key of web.i18n
    columns: tuple[str, ...]  # keys of web.i18n
    read: Callable[[HubHome, Reader], Sequence[Any]]
    row: Callable[[Any, dict[str, str]], list[str]]


def _gaps(home: HubHome, reader: Reader) -> Sequence[Any]:
    return chain_gaps(home, dt.date.today(), reader=reader)


def _transitions(home: HubHome, reader: Reader) -> Sequence[Any]:
    return rechtskreis_transitions(home, reader=reader)


def _code(t: dict[str, str], prefix: str, value: str) -> str:
    """A code of the hub in the reader's words where the table has them, else as it is."""
    return t.get(prefix + value, value)


WORKLISTS = {
    "gaps": Worklist(
        "gaps",
        ("district", "pseudonym", "trigger", "since", "bodies"),
        _gaps,
        lambda g, t: [g.district, g.pseudonym, _code(t, "trigger_", g.trigger), g.since.isoformat(), ", ".join(g.bodies)],
    ),
    "transitions": Worklist(
        "transitions",
        ("district", "pseudonym", "on", "event", "before", "after", "bodies"),
        _transitions,
        lambda c, t: [
            c.district,
            c.pseudonym,
            c.on.isoformat(),
            _code(t, "event_", c.kind),
            _code(t, "value_", c.before),
            _code(t, "value_", c.after),
            ", ".join(c.bodies),
        ],
    ),
}


def _coordinator(request: Request) -> tuple[SignedIn, frozenset[str] | None]:
    """The signed-in coordinator and the district codes it is granted (None: all)."""
    user = in_role(request, "coordinator")
    return user, frozenset(user.account.districts) if user.account.districts else None


def _districts(request: Request, granted: frozenset[str] | None) -> list[District]:
    return worklist_districts(context_of(request).home, granted)


def _scope(request: Request, key: str | None, allow_all: bool = False) -> tuple[SignedIn, list[District], District | None]:
    """The user, its districts and the one asked for (None: all of them); 404 for any other."""
    user, granted = _coordinator(request)
    districts = _districts(request, granted)
    if key is None or (allow_all and key == ALL):
        return user, districts, None
    chosen = next((d for d in districts if d.key == key), None)
    if chosen is None:
        raise not_found()
    return user, districts, chosen


def _rows(
    request: Request, user: SignedIn, name: str, districts: list[District], chosen: District | None, export: bool
) -> list[list[str]]:
    """The worklist's rows for the user's districts (or the one chosen), read as the user."""
    worklist = WORKLISTS[name]
    keys = [chosen.key] if chosen else [d.key for d in districts]
    granted = None if chosen is None and user.account.districts == () else frozenset(keys)
    context = {**user.account.context(), "worklist_district": chosen.key if chosen else ALL}
    reader = Reader(actor=user.account.actor, context=context, districts=granted, export=export)
    t = texts(language(request))
    return [worklist.row(finding, t) for finding in worklist.read(context_of(request).home, reader)]


def _page(request: Request, name: str, key: str | None) -> Response:
    user, districts, chosen = _scope(request, key)
    rows = _rows(request, user, name, districts, chosen, export=False)
    return context_of(request).render(
        request,
        "worklist.html",
        worklist=name,
        title_key=WORKLISTS[name].title,
        columns=WORKLISTS[name].columns,
        rows=rows,
        districts=districts,
        chosen=chosen,
        csv_key=chosen.key if chosen else ALL,
    )


@router.get("/gaps")
async def gaps_page(request: Request) -> Response:
    return _page(request, "gaps", None)


@router.get("/gaps/{district}")
async def gaps_of_district(request: Request, district: str) -> Response:
    return _page(request, "gaps", district)


@router.get("/transitions")
async def transitions_page(request: Request) -> Response:
    return _page(request, "transitions", None)


@router.get("/transitions/{district}")
async def transitions_of_district(request: Request, district: str) -> Response:
    return _page(request, "transitions", district)


@router.get("/gaps/{district}/csv")
async def gaps_csv(request: Request, district: str) -> Response:
    return _csv(request, "gaps", district)


@router.get("/transitions/{district}/csv")
async def transitions_csv(request: Request, district: str) -> Response:
    return _csv(request, "transitions", district)


def _csv(request: Request, name: str, district: str) -> Response:
    """The rows of the page (``_all``: of every district granted) as a CSV download."""
    user, districts, chosen = _scope(request, district, allow_all=True)
    rows = _rows(request, user, name, districts, chosen, export=True)
    t = texts(language(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_safe(t[column]) for column in WORKLISTS[name].columns])
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
    file_name = f"{name}-{chosen.key if chosen else 'alle'}-{dt.date.today().isoformat()}.csv"
    return Response(out.getvalue(), media_type=CSV_TYPE, headers={"content-disposition": f'attachment; filename="{file_name}"'})


@router.get("/report")
async def report(request: Request) -> Response:
    """The coordinator's report made now from the database: the page `kim-hub report` writes."""
    user, granted = _coordinator(request)
    html = live_report(
        context_of(request).home,
        language(request),
        districts=granted,
        actor=user.account.actor,
        context=user.account.context(),
    )
    html = html.replace("<head>", f"<head>{ICON}", 1)  # the application's icon (else the browser asks for /favicon.ico)
    return HTMLResponse(html, headers={"content-security-policy": inline_styles_policy(html)})


@router.get("/monitoring")
async def monitoring(request: Request) -> Response:
    """The form that asks for the period, and the export itself once a period is given."""
    user, _granted = _coordinator(request)
    web = context_of(request)
    period = request.query_params.get("period")
    if period is None:
        record_view(web.home, user.account.actor, "monitoring", user.account.context())
        return web.render(request, "monitoring.html", period="", invalid=False)
    try:
        export = monitoring_export(web.home, period, lang=language(request))
    except ConfigError:
        return web.render(request, "monitoring.html", status=400, period=period[:20], invalid=True)
    record_view(web.home, user.account.actor, "monitoring.export", user.account.context(), detail={"period": export.period})
    return Response(
        export.text,
        media_type=CSV_TYPE,
        headers={"content-disposition": f'attachment; filename="monitoring-{export.period}.csv"'},
    )
