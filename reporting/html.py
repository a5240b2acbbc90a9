"""The report as ONE self-contained HTML page: inline CSS, inline SVG charts, no scripts.

Rendered from the report dict (``reporting.model.build_report``), never from the database, so
the page can only show what the JSON shows: counts and pseudonyms. Every value is escaped.
A print stylesheet keeps sections and tables from breaking across pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from kim_hub.reporting import charts
from kim_hub.reporting.i18n import label

CSS = """
:root { --ink: #1a1a1a; --muted: #555; --rule: #ccc; --accent: #0072B2; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 15px/1.45 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink); margin: 0; background: var(--bg); }
header { background: var(--accent); color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: 0; opacity: .9; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
nav ol { columns: 2; margin: .5rem 0 0; }
section { background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 1rem 1.4rem; margin: 1.2rem 0; }
h2 { font-size: 1.2rem; margin: 0 0 .8rem; color: var(--accent); }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: .8rem; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: .6rem .8rem; }
.card b { display: block; font-size: 1.6rem; }
.card span { color: var(--muted); font-size: .85rem; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: var(--bg); }
.pos { color: #007a3d; } .neg { color: #b00020; }
.note { color: var(--muted); font-size: .88rem; }
.chart { width: 100%; max-width: 720px; height: auto; display: block; margin: .4rem 0; }
.pseudonym { font-family: "DejaVu Sans Mono", monospace; font-size: .85rem; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { background: #fff; font-size: 10.5pt; }
  header { background: none; color: #000; border-bottom: 2px solid #000; padding: 0 0 .4rem; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  section { border: none; padding: 0; margin: 0 0 1rem; break-inside: avoid-page; }
  h2 { color: #000; break-after: avoid; }
  table { break-inside: auto; } tr { break-inside: avoid; } thead { display: table-header-group; }
  .chart { max-width: 16cm; break-inside: avoid; }
}
"""

SECTIONS = (
    "overview",
    "sources_title",
    "spread_title",
    "overlap_title",
    "rechtskreis_title",
    "transitions_title",
    "gaps_title",
    "review_title",
    "quality_title",
)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(headers)
    head = "".join(f'<th{" class=n" if n else ""} scope="col">{escape(str(h))}</th>' for h, n in zip(headers, numeric))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if n else ''}>{cell if isinstance(cell, _Raw) else escape(_fmt(cell))}</td>"
            for cell, n in zip(row, numeric)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Raw(str):
    """Markup built here from escaped parts: inserted as is."""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:.3f}"
    return str(value)


def _section(key: str, lang: str, content: str) -> str:
    return f'<section id="{key}"><h2>{escape(label(key, lang))}</h2>{content}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _code(value: str, lang: str) -> str:
    """Codes stay codes; only the hub's own words (unknown, left, total) are translated."""
    return label(value, lang) if value in ("unknown", "left", "total") else value


def render_html(report: dict[str, Any], lang: str | None = None) -> str:
    """The page for one report."""
    lang = lang or report.get("lang", "de")

    def t(key: str) -> str:
        return label(key, lang)

    parts = [_overview(report, lang), _sources(report, lang), _spread(report, lang), _overlap(report, lang)]
    parts += [
        _rechtskreis(report, lang),
        _transitions(report, lang),
        _gaps(report, lang),
        _review(report, lang),
        _quality(report, lang),
    ]
    contents = "".join(f'<li><a href="#{key}">{escape(t(key))}</a></li>' for key in SECTIONS)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t('title'))}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(t('title'))}</h1><p>{escape(t('generated'))}: {escape(report['generated_at'])} · "
        f"{escape(t('pseudonyms_only'))}</p></header><main>"
        f'<nav aria-label="{escape(t("contents"))}"><ol>{contents}</ol></nav>' + "".join(parts) + "</main></body></html>\n"
    )


def _overview(report: dict[str, Any], lang: str) -> str:
    totals = report["totals"]
    cards = "".join(
        f'<div class="card"><b>{escape(str(v))}</b><span>{escape(label(k, lang))}</span></div>' for k, v in totals.items()
    )
    changes = report["changes"]
    if changes["previous_generated_at"] is None:
        diff = _note(label("no_previous", lang))
    elif not changes["counts"]:
        diff = _note(label("no_changes", lang))
    else:
        rows = [
            (
                c["key"],
                c["previous"],
                c["current"],
                _Raw(f'<span class="{"pos" if c["delta"] > 0 else "neg"}">{c["delta"]:+d}</span>'),
            )
            for c in changes["counts"]
        ]
        diff = _table(
            [label("count", lang), label("previous", lang), label("current", lang), label("delta", lang)],
            rows,
            [False, True, True, True],
        )
    since = f" ({escape(changes['previous_generated_at'])})" if changes["previous_generated_at"] else ""
    run = ""
    if report.get("run") and report["run"].get("kind") == "retention":
        retention_rows = [
            (s, c.get("records_erased"), c.get("linkage_only_purged"), c.get("persons_erased"))
            for s, c in report["run"].get("sources", {}).items()
        ]
        run = f"<h3>{escape(label('retention_title', lang))}</h3>" + _table(
            [
                label("source", lang),
                label("closed_erased", lang),
                label("linkage_only_purged", lang),
                label("persons_erased", lang),
            ],
            retention_rows,
            [False, True, True, True],
        )
    elif report.get("run"):
        run_rows = [
            (s, c.get("records_in"), c.get("records_accepted"), c.get("records_unchanged"), c.get("records_rejected"))
            for s, c in report["run"].get("sources", {}).items()
        ]
        run = f"<h3>{escape(label('run_title', lang))}</h3>" + _table(
            [
                label("source", lang),
                label("rows", lang),
                label("accepted", lang),
                label("unchanged", lang),
                label("rejected", lang),
            ],
            run_rows,
            [False, True, True, True, True],
        )
    return _section(
        "overview", lang, f'<div class="cards">{cards}</div>{run}<h3>{escape(label("changes", lang))}{since}</h3>{diff}'
    )


def _sources(report: dict[str, Any], lang: str) -> str:
    sources = report["sources"]
    if not sources:
        return _section("sources_title", lang, _note(label("no_data", lang)))
    chart = charts.bar_chart(
        [s["source"] for s in sources], [s["records"] for s in sources], label("records", lang), label("records", lang)
    )
    summary = _table(
        [label("source", lang), label("records", lang), label("persons", lang)],
        [(s["source"], s["records"], s["persons"]) for s in sources],
        [False, True, True],
    )
    deliveries = [
        (s["source"], d["day"], d["files"], d["rows"], d["accepted"], d["unchanged"], d["rejected"])
        for s in sources
        for d in s["deliveries"]
    ]
    headers = [label(k, lang) for k in ("source", "day", "files", "rows", "accepted", "unchanged", "rejected")]
    return _section(
        "sources_title", lang, chart + summary + _table(headers, deliveries, [False, False, True, True, True, True, True])
    )


def _spread(report: dict[str, Any], lang: str) -> str:
    spread = report["persons_by_source_count"]
    chart = charts.bar_chart(
        list(spread), list(spread.values()), label("spread_title", lang), label("n_sources", lang), horizontal=False
    )
    return _section(
        "spread_title",
        lang,
        chart + _table([label("n_sources", lang), label("persons", lang)], list(spread.items()), [False, True]),
    )


def _overlap(report: dict[str, Any], lang: str) -> str:
    overlap = report["overlap"]
    if not overlap["sources"]:
        return _section("overlap_title", lang, _note(label("no_data", lang)))
    chart = charts.heatmap(overlap["sources"], overlap["sources"], overlap["matrix"], label("overlap_title", lang))
    table = _table(
        [label("source", lang), *overlap["sources"]],
        [(s, *row) for s, row in zip(overlap["sources"], overlap["matrix"])],
        [False] + [True] * len(overlap["sources"]),
    )
    return _section("overlap_title", lang, chart + table)


def _rechtskreis(report: dict[str, Any], lang: str) -> str:
    persons = report["rechtskreis"]["persons"]
    if not persons:
        return _section("rechtskreis_title", lang, _note(label("no_data", lang)))
    names = [_code(k, lang) for k in persons]
    chart = charts.bar_chart(names, list(persons.values()), label("rechtskreis_title", lang), label("persons", lang))
    cells = {(r["residence_status"], r["rechtskreis"]): r["persons"] for r in report["rechtskreis"]["by_residence_status"]}
    statuses = sorted({status for status, _rk in cells})
    rows = [(_code(status, lang), *(cells.get((status, rk), "") for rk in persons)) for status in statuses]
    table = _table(
        [f"{label('residence_status', lang)} / {label('rechtskreis', lang)}", *names], rows, [False] + [True] * len(names)
    )
    return _section("rechtskreis_title", lang, chart + table)


def _transitions(report: dict[str, Any], lang: str) -> str:
    moves = report["rechtskreis"]["transitions"]
    if not moves:
        return _section("transitions_title", lang, _note(label("no_transitions", lang)))
    origins = sorted({m["from"] for m in moves})
    targets = sorted({m["to"] for m in moves})
    counts = {(m["from"], m["to"]): m["persons"] for m in moves}
    matrix = [[counts.get((a, b), 0) for b in targets] for a in origins]
    chart = charts.heatmap(
        [_code(a, lang) for a in origins],
        [_code(b, lang) for b in targets],
        matrix,
        label("transitions_title", lang),
        label("to", lang),
        label("from", lang),
    )
    rows = [(_code(m["from"], lang), _code(m["to"], lang), m["persons"]) for m in moves]
    return _section(
        "transitions_title",
        lang,
        chart + _table([label("from", lang), label("to", lang), label("persons", lang)], rows, [False, False, True]),
    )


def _gaps(report: dict[str, Any], lang: str) -> str:
    gaps = report["chain_gaps"]["by_district"]
    note = _note(label("gaps_note", lang))
    if not gaps:
        return _section("gaps_title", lang, note + _note(label("no_gaps", lang)))
    chart = charts.bar_chart(
        [_code(g["district"], lang) for g in gaps],
        [g["persons"] for g in gaps],
        label("gaps_title", lang),
        label("persons", lang),
    )
    rows = [
        (
            _code(g["district"], lang),
            g["persons"],
            _Raw(
                f'<span class="pseudonym">{escape(" ".join(g["pseudonyms"]))}{" …" if g["persons"] > len(g["pseudonyms"]) else ""}</span>'
            ),
        )
        for g in gaps
    ]
    return _section(
        "gaps_title",
        lang,
        note
        + chart
        + _table([label("district", lang), label("persons", lang), label("pseudonyms", lang)], rows, [False, True, False]),
    )


def _review(report: dict[str, Any], lang: str) -> str:
    review = report["review"]
    if not review["items"]:
        return _section("review_title", lang, _note(label("no_review", lang)))
    rows = []
    for item in review["items"]:
        evidence = "<br>".join(
            f"{escape(field.replace('_', ' '))}: {escape(str(words))}" for field, words in item["evidence"].items()
        )
        rows.append((f"#{item['id']}", f"{item['score']:.3f}", _review_side(item["a"]), _review_side(item["b"]), _Raw(evidence)))
    shown = _note(label("review_shown", lang).format(shown=len(review["items"]), open=review["open"]))
    headers = ["#", label("score", lang), f"{label('person', lang)} A", f"{label('person', lang)} B", label("evidence", lang)]
    return _section("review_title", lang, shown + _table(headers, rows, [False, True, False, False, False]))


def _review_side(side: dict[str, Any]) -> _Raw:
    """One record of a review pair: its source and its person's pseudonym."""
    return _Raw(f'{escape(side["source"])} · <span class="pseudonym">{escape(side["person"] or "–")}</span>')


def _quality(report: dict[str, Any], lang: str) -> str:
    quality = report["data_quality"]
    if not quality:
        return _section("quality_title", lang, _note(label("no_data", lang)))
    summary_rows = [
        (
            q["source"],
            q["records"],
            q["rejected_rows"],
            q["birth_date_placeholder_share"],
            " / ".join(str(q["birth_date_precision"][p]) for p in ("day", "month", "year", "missing")),
        )
        for q in quality
    ]
    headers = [
        label("source", lang),
        label("records", lang),
        label("rejected_rows", lang),
        label("placeholder_share", lang),
        label("precision", lang),
    ]
    html = _table(headers, summary_rows, [False, True, True, True, False])
    fields = list(quality[0]["missing_share"])
    html += f"<h3>{escape(label('missing_title', lang))}</h3>" + _table(
        [label("field", lang), *(q["source"] for q in quality)],
        [(f, *(q["missing_share"][f] for q in quality)) for f in fields],
        [False] + [True] * len(quality),
    )
    rejections = [(q["source"], r["field"], r["reason"], r["count"]) for q in quality for r in q["rejections"]]
    html += f"<h3>{escape(label('rejections_title', lang))}</h3>"
    html += (
        _table(
            [label("source", lang), label("field", lang), label("reason", lang), label("count", lang)],
            rejections,
            [False, False, False, True],
        )
        if rejections
        else _note(label("no_rejections", lang))
    )
    return _section("quality_title", lang, html)


__all__ = ["render_html"]
