"""The report's aggregates as Markdown, for the Prefect run's artifact.

Counts only: no pseudonyms, no review items, no per-district lists — a Prefect server is a
place for operations, not for anything that points at a person.
"""

from __future__ import annotations

from typing import Any

from kim_hub.reporting.i18n import label


def report_markdown(report: dict[str, Any], lang: str = "de") -> str:
    def t(key: str) -> str:
        return label(key, lang)

    lines = [f"# {t('title')}", "", f"{t('generated')}: {report['generated_at']}", ""]
    lines += [f"| {t('count')} | |", "|---|---:|"]
    lines += [f"| {t(key)} | {value} |" for key, value in report["totals"].items()]
    lines += ["", f"| {t('source')} | {t('records')} | {t('persons')} | {t('rejected_rows')} |", "|---|---:|---:|---:|"]
    rejected = {q["source"]: q["rejected_rows"] for q in report["data_quality"]}
    lines += [f"| {s['source']} | {s['records']} | {s['persons']} | {rejected.get(s['source'], 0)} |" for s in report["sources"]]
    spread = report["persons_by_source_count"]
    lines += ["", f"{t('spread_title')}: " + ", ".join(f"{k}: {v}" for k, v in spread.items())]
    changes = report["changes"]["counts"]
    if changes:
        lines += [
            "",
            f"## {t('changes')}",
            "",
            f"| {t('count')} | {t('previous')} | {t('current')} | {t('delta')} |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {c['key']} | {c['previous']} | {c['current']} | {c['delta']:+d} |"
            for c in changes
            if not c["key"].startswith("chain_gaps.")
        ]
    return "\n".join(lines) + "\n"


__all__ = ["report_markdown"]
