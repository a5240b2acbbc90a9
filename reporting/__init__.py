"""The coordinator's report and the state monitoring: pure aggregation, suppression and rendering.

Takes facts (``reporting.facts``, filled by ``hub_db.report_queries``; no database here, no Prefect):

    model        HubFacts → report dict (the JSON document, schema in docs/report.schema.json)
    html         report dict → one self-contained HTML page with inline SVG charts
    charts       counts → SVG (matplotlib, server-side; imported only when a page is rendered)
    inputs       what a report is made from, as one digest (a sync rewrites the report only when it changes)
    markdown     report dict → the aggregate-only summary attached to a Prefect run
    monitoring   records → per-period count tables for the state, suppressed
    suppression  small-cell suppression rules (primary and secondary)
"""

from typing import Any

from kim_hub.reporting.markdown import report_markdown
from kim_hub.reporting.model import build_report, count_index, diff_counts
from kim_hub.reporting.monitoring import monitoring_csv, monitoring_document, parse_period
from kim_hub.reporting.suppression import DEFAULT_THRESHOLD, suppress_table


def __getattr__(name: str) -> Any:
    """``render_html`` on first use: it brings matplotlib (about 0.4 s of imports), which a sync
    that leaves the report unchanged never needs (``pipeline.reports.publish_report``)."""
    if name == "render_html":
        from kim_hub.reporting.html import render_html

        return render_html
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_THRESHOLD",
    "build_report",
    "count_index",
    "diff_counts",
    "monitoring_csv",
    "monitoring_document",
    "parse_period",
    "render_html",
    "report_markdown",
    "suppress_table",
]
