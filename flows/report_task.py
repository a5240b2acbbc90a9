"""The report step of a sync run: publish reports/report.{json,html} and attach the aggregates,
only when something the report is made from changed (``pipeline.reports.publish_report``).

The artifact on the Prefect run carries counts only (``reporting.markdown``): no pseudonyms, no
review items, so nothing that points at a person reaches Prefect's database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task

from kim_hub.flows.boundary import is_transient, step_boundary
from kim_hub.pipeline.home import HubHome

ARTIFACT_KEY = "kim-hub-report"


@task(name="write-report", retries=2, retry_delay_seconds=5, retry_condition_fn=is_transient, persist_result=False)
def report_task(home_path: str, run_summary: dict[str, Any] | None = None, lang: str = "de") -> dict[str, Any]:
    """Publish the run's report into reports/ unless nothing it is made from changed, and attach
    its aggregates; returns whether it was written, where its page is, when it was made and (when
    written) its totals (any
    failure leaves as a StepError: a corrupt previous report quotes its value in ``int()``'s message).
    Retried when its read cannot be logged yet (SQLite: another run holds the write lock); the
    read is logged before a file is touched, so a retry starts afresh."""
    from kim_hub.pipeline.reports import publish_report  # the report's modules: only for a run that reports

    with step_boundary("write-report"):
        published = publish_report(HubHome(Path(home_path)), run_summary, lang)
        report = published.report
        if not published.written:  # its inputs are those of the report in place (pipeline.reports)
            get_run_logger().info("report unchanged since %s: %s", report.get("generated_at"), published.page)
            return {"written": False, "page": str(published.page), "generated_at": report.get("generated_at")}
        from prefect.artifacts import create_markdown_artifact

        from kim_hub.reporting.markdown import report_markdown

        create_markdown_artifact(
            key=ARTIFACT_KEY, markdown=report_markdown(report, lang), description="kim-hub: counts of this sync run's report"
        )
        get_run_logger().info("report: %s", report["totals"])
        return {"written": True, "page": str(published.page), "generated_at": report["generated_at"], **report["totals"]}
