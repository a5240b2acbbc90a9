"""`kim-hub ingest | push | reestimate | retention | serve`: the Prefect flows, run from the shell.

Prefect reads its settings when it is first imported, so the flows module is imported only after
``flows.prefect_setup`` has pointed Prefect at the home (``prefect_flows``). On a terminal a sync
shows a progress bar per phase (``cli.progress``), the other flows a spinner; cron, CI, pipes and
``--quiet`` get silence.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType, TracebackType
from typing import Any

from kim_hub.cli.commands import EXIT_OK, EXIT_PART_FAILED, EXIT_REJECTED, CommandGroup, home_of
from kim_hub.core.errors import ConfigError
from kim_hub.flows.nothing_to_do import COMPLETED_MESSAGE as NOTHING_NEW_LINE
from kim_hub.flows.nothing_to_do import SYNC_FLOW_NAME, answer_quiet_sync
from kim_hub.pipeline.home import HubHome, check_source_name


def register(commands: CommandGroup) -> None:
    ingest = commands.command(
        "ingest",
        cmd_ingest,
        "Run one sync cycle (a Prefect flow) over the inboxes, then link.",
        "kim-hub ingest --home /srv/kim-hub",
        "kim-hub ingest --source caritas --source awo --home /srv/kim-hub",
    )
    ingest.add_argument("--source", action="append", help="only this source (repeatable)")
    ingest.add_argument("--verbose", action="store_true", help="show Prefect's run log on the terminal")
    ingest.add_argument(
        "--full",
        action="store_true",
        help="run every step for every source even when the first look finds nothing new (a source's API is pulled "
        "and a quiet home is linked, pushed and reported anyway)",
    )
    ingest.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar on a terminal (without a terminal there is none anyway); the summary is still printed",
    )
    commands.command(
        "push",
        cmd_push,
        "Send changed case summaries and due withdrawal notices to the bodies' outboxes (a flow).",
        "kim-hub push --home /srv/kim-hub",
    )
    estimate = commands.command(
        "reestimate",
        cmd_reestimate,
        "Re-learn the linkage model from the whole index (a Prefect flow); stores a new version.",
        "kim-hub reestimate --relink --home /srv/kim-hub",
    )
    estimate.add_argument("--relink", action="store_true", help="then re-cluster the whole index under the new model")
    retention = commands.command(
        "retention",
        cmd_retention,
        "Erase records held only for linkage past linkage_only_days and records whose case closed longer ago "
        "than their source's retention_days, and purge archived and failed deliveries and receipts past "
        "archive_days, failed_days and receipt_days, and audit log entries past their channel's period (a flow); "
        "the report shows the counts.",
        "kim-hub retention --home /srv/kim-hub",
        "kim-hub retention --plan --home /srv/kim-hub",
    )
    retention.add_argument(
        "--plan",
        action="store_true",
        help="only list every data category with its period, start event, where the rule is set and how many are due "
        "now; nothing is deleted",
    )
    retention.add_argument("--format", choices=("text", "json"), default="text", help="with --plan: a table or JSON")
    commands.command(
        "serve",
        cmd_serve,
        "Run the flows on their schedules (Prefect deployments; one per source plus maintenance) until stopped.",
        "kim-hub serve --home /srv/kim-hub",
    )


def prefect_flows(home: HubHome, verbose: bool = False) -> ModuleType:
    """The flows module, imported only after Prefect is pointed at this home and at its API (a
    temporary server that dies with this process unless one is configured)."""
    home.load_config()
    from kim_hub.flows.prefect_setup import connect_prefect_api, prepare_prefect

    prepare_prefect(home, verbose)
    connect_prefect_api()
    from kim_hub.flows import sync

    return sync


class Status:
    """A spinner on a terminal; silence otherwise (cron, CI, pipes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.live: Any = None

    def __enter__(self) -> Status:
        if sys.stderr.isatty():
            from rich.console import Console

            self.live = Console(stderr=True).status(self.text)
            self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self.live is not None:
            self.live.__exit__(kind, error, trace)


def cmd_ingest(args: argparse.Namespace) -> int:
    home = home_of(args)
    summary = run_sync(home, args.source, verbose=args.verbose, quiet=args.quiet, full=args.full)
    print_summary(summary)
    return sync_exit_code(summary)


def sync_exit_code(summary: dict[str, Any]) -> int:
    """4 when part of the run failed (a file or step set aside, a body not delivered to or a
    document refused), else 1 when rows or whole files were rejected (the senders have receipts
    to act on)."""
    if summary["failed"] or summary["files_failed"] or push_part_failed(summary["push"]):
        return EXIT_PART_FAILED
    return EXIT_REJECTED if summary["records_rejected"] or summary.get("files_rejected") else EXIT_OK


def run_sync(
    home: HubHome, sources: list[str] | None = None, verbose: bool = False, quiet: bool = False, full: bool = False
) -> dict[str, Any]:
    """Run the real Prefect sync flow for a home and return its summary; on a terminal (unless
    ``quiet``) with a progress bar per phase (``cli.progress``); ``full``: every step, whatever
    the flow's first look finds (``flows.sync``). A sync with nothing to do against a configured
    Prefect server is answered and recorded there without the flow (``flows.nothing_to_do``)."""
    from kim_hub.pipeline.keys import encoding_keys

    config = home.load_config()
    for name in sources or ():
        check_source_name(name, "--source")
    unknown = sorted(set(sources or ()) - set(config.sources))
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)} (configured: {', '.join(config.sources)})")
    encoding_keys(home, config)  # refuse early, before Prefect starts, if the key is exposed
    if not full:  # nothing to do, against a configured Prefect server: answered without importing Prefect
        quiet_summary = answer_quiet_sync(home, config, sources)
        if quiet_summary is not None:
            if verbose:
                print(
                    f"flow run {quiet_summary['recorded_run']!r} of {SYNC_FLOW_NAME} recorded as Completed on the Prefect server"
                )
            return quiet_summary
    with _progress("running sync flow", quiet):
        summary: dict[str, Any] = prefect_flows(home, verbose).sync_flow(str(home.path), sources, full)
    return summary


def _progress(title: str, quiet: bool) -> AbstractContextManager[None]:
    """``cli.progress.ingest_progress`` on a terminal; nothing (and rich not imported) otherwise,
    as a cron job or a pipe gets nothing from it anyway."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    from kim_hub.cli.progress import ingest_progress

    return ingest_progress(title, quiet)


def print_summary(summary: dict[str, Any]) -> None:
    """A sync run's counts per source and of the master index, as a table."""
    print(f"{'source':12} {'files':>5} {'skipped':>7} {'rows':>6} {'new/chg':>7} {'same':>6} {'rejected':>8}")
    for source, counts in summary["sources"].items():
        files = counts["files_ingested"] + counts["files_rejected"] + counts["files_failed"]
        print(
            f"{source:12} {files:>5} {counts['files_skipped']:>7} "
            f"{counts['records_in']:>6} {counts['records_accepted']:>7} {counts['records_unchanged']:>6} "
            f"{counts['records_rejected']:>8}"
        )
    if summary.get("nothing_new"):
        print(NOTHING_NEW_LINE)
    linking = summary["linking"]
    if linking is not None:
        print(
            f"master index: {linking['records_linked']} records linked, {linking['persons_created']} persons created, "
            f"{linking['persons_merged']} merged, {linking['persons_split']} split, {linking['review_items']} for review"
            + _learnt_names(linking.get("given_name_pairs", 0))
        )
    if linking is not None and linking.get("records_set_aside"):
        print(
            f"{linking['records_set_aside']} record(s) set aside: their stored encoding does not open with its key version "
            "(a row moved or damaged at rest); they keep the person they had, if any, and nothing new links to them "
            "until the database is restored or the source delivers them anew (docs/operations.md, "
            "'Encodings and what an insider learns')",
            file=sys.stderr,
        )
    if summary["files_failed"]:
        print(
            f"{summary['files_failed']} file(s) could not be processed and were set aside in failed/ (see their receipts)",
            file=sys.stderr,
        )
    report = summary.get("report")
    if report is not None:
        state = "written" if report["written"] else f"unchanged since {report['generated_at']} (nothing it shows changed)"
        print(f"report {state}: {report['page']}")
    for step, kind in summary["failed"].items():
        print(f"{step} failed ({kind}); the rest of the run went on", file=sys.stderr)
    for line in push_problems(summary["push"]):
        print(line, file=sys.stderr)


def cmd_push(args: argparse.Namespace) -> int:
    home = home_of(args)
    outcome = prefect_flows(home).push_flow(str(home.path))
    print(push_line(outcome))
    for line in collection_lines(outcome):
        print(line)
    for line in push_problems(outcome):
        print(line, file=sys.stderr)
    return EXIT_PART_FAILED if push_part_failed(outcome) else EXIT_OK


def collection_lines(outcome: dict[str, Any]) -> list[str]:
    """Per body that collects over the API: what waits for it, and what the push took back."""
    held, taken_back = outcome.get("documents_held") or {}, outcome.get("documents_taken_back") or {}
    return [
        f"{body}: {held.get(body, 0)} document(s) waiting to be collected, {taken_back.get(body, 0)} taken back"
        for body in sorted(set(held) | set(taken_back))
    ]


def push_part_failed(outcome: dict[str, Any] | None) -> bool:
    """Did part of a push fail: a body not delivered to, or a document refused? (Both are
    planned again next run; entries left alone in an outbox are reported but delivered around.)"""
    return bool(outcome and (outcome["failed"] or outcome["documents_refused"]))


def _learnt_names(pairs: int) -> str:
    """The summary line's note of the given-name pairs the index learnt (nothing when none)."""
    if not pairs:
        return ""
    return f"; {pairs} given-name pair{'s' if pairs != 1 else ''} learnt from confirmed pairs (docs/operations.md, Review queue)"


def push_problems(outcome: dict[str, Any] | None) -> list[str]:
    """What the operator has to look at after a push, by body and kind, never a value."""
    if not outcome:
        return []
    lines = [f"{body}: not delivered, retried next run ({reason})" for body, reason in sorted(outcome["failed"].items())]
    lines += [
        f"{body}: {count} document(s) refused (not encodable as UTF-8 JSON), planned again next run"
        for body, count in sorted(outcome["documents_refused"].items())
    ]
    lines += [
        f"{body}: left alone in its outbox: " + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        for body, kinds in sorted(outcome["outbox_entries_skipped"].items())
    ]
    return lines


def push_line(outcome: dict[str, Any]) -> str:
    """One line on what a push sent."""
    return (
        f"{outcome['summaries_sent']} summaries sent, {outcome['withdrawal_notices']} withdrawal notices, "
        f"{outcome['corrections']} corrections, {outcome['erasure_notices']} erasure notices, "
        f"{outcome['unchanged']} unchanged, {outcome['without_consent']} without consent"
    )


def cmd_reestimate(args: argparse.Namespace) -> int:
    home = home_of(args)
    with Status("re-estimating the linkage model"):
        summary = prefect_flows(home).reestimate_flow(str(home.path), args.relink)
    print(f"model version {summary['model_version']} stored")
    if summary["linking"]:
        print(f"re-linked {summary['linking']['records_linked']} records")
    return EXIT_OK


def cmd_retention(args: argparse.Namespace) -> int:
    home = home_of(args)
    if args.plan:
        return print_retention_plan(home, args.format)
    if not any(source.retention_days is not None for source in home.load_config().sources.values()):
        print("no source has retention_days set in hub.toml: no closed cases to erase")
    summary = prefect_flows(home).retention_flow(str(home.path))
    for source, counts in summary["sources"].items():
        print(
            f"{source:12} {counts['records_erased']} records of closed cases, {counts['linkage_only_purged']} held only "
            f"for linkage and {counts['persons_erased']} persons erased; "
            f"purged {counts['archive_purged']} archived and {counts['failed_purged']} failed deliveries, "
            f"{counts['receipts_purged']} receipt files"
        )
    for channel, count in summary["audit_log"].items():
        print(f"audit log {channel:8} {count} entries past their retention period removed")
    purged = sum(counts["linkage_only_purged"] for counts in summary["sources"].values())
    print(f"{purged} linkage-only records purged")
    return EXIT_OK


def print_retention_plan(home: HubHome, form: str) -> int:
    """The retention plan as a table (or JSON): nothing is deleted."""
    from dataclasses import asdict

    from kim_hub.pipeline.retention_plan import retention_plan

    rules = retention_plan(home, home.load_config())
    if form == "json":
        print(json.dumps([asdict(rule) for rule in rules], indent=1, ensure_ascii=False))
        return EXIT_OK
    header = ("category", "scope", "period", "start event", "due now", "rule set by")
    rows = [
        (r.category, r.scope, r.period, r.start, "-" if r.due is None else f"{r.due} {r.unit}".strip(), r.rule) for r in rules
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    print("\nnothing was deleted: `kim-hub retention` erases and purges what is due")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    home = home_of(args)
    prefect_flows(home, verbose=True)
    from kim_hub.flows.schedule import serve

    serve(home)
    return EXIT_OK
