"""The sync flow: every configured source pulled, mapped, pseudonymised, stored, then linked.

Tasks work on whole sources (never on single records: a Prefect task run costs milliseconds) and
return counts only, so no personal data reaches Prefect's results, logs or database. Every task
and flow body runs inside ``step_boundary``: what leaves it is a StepError naming the step and
the kind of error, never a message that could quote a value. Only transient errors are retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task

from kim_hub.core.errors import TransientError
from kim_hub.flows.boundary import is_transient, step_boundary
from kim_hub.flows.nothing_to_do import SYNC_FLOW_NAME, run_name
from kim_hub.flows.prefect_setup import install_redaction
from kim_hub.flows.redaction import kind_of
from kim_hub.flows.report_task import report_task
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.runtime.file_modes import use_private_umask

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kim_hub.pipeline.sync_work import SyncWork

# The pipeline's services, and SQLAlchemy, are imported by the tasks that use them, not here: a
# sync that finds nothing to do (``look-for-work``) then never loads the ingest's, the linker's or
# the push's modules (mappings, encodings, numpy), nor on SQLite the database layer: together about
# a third of what a no-op sync cost beyond Prefect.


def _guard_process() -> None:
    """What every flow does first, in whatever process runs it (the CLI's, a `serve` run's, a
    worker's): logs redacted, and everything it creates private to the hub's account (umask 077)."""
    install_redaction()
    use_private_umask()


_is_transient = is_transient  # the tasks' retry condition (flows.boundary)


@contextmanager
def _transient_database_errors() -> Iterator[None]:
    """A locked or unreachable database is worth a retry; Prefect retries TransientError only.

    Each file is one transaction and the ledger makes a retry skip what already landed, so a
    retried task neither loses nor duplicates anything.
    """
    try:
        yield
    except Exception as exc:
        from sqlalchemy.exc import InterfaceError, OperationalError  # loaded already by whatever raised one

        if isinstance(exc, OperationalError | InterfaceError):
            raise TransientError(f"database temporarily unavailable ({type(exc.orig).__name__})") from None
        raise


@contextmanager
def _hub(home_path: str) -> Iterator[tuple[HubHome, HubConfig, sessionmaker[Session]]]:
    """The home, its config and a session factory for one task; database errors made transient."""
    from kim_hub.pipeline.database import open_sessions

    home = HubHome(Path(home_path))
    config = home.load_config()
    with _transient_database_errors(), open_sessions(home, config) as sessions:
        yield home, config, sessions


@task(
    name="ingest-source",
    task_run_name="ingest-{source}",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=_is_transient,
    persist_result=False,
)
def ingest_source_task(home_path: str, source: str) -> dict[str, Any]:
    """Pull one source's new files into the hub; returns counts."""
    from kim_hub.pipeline.ingest import SourceOutcome, ingest_source
    from kim_hub.pipeline.keys import encoding_keys

    with step_boundary("ingest-source"):
        with _hub(home_path) as (home, config, sessions):
            outcome: SourceOutcome = ingest_source(home, config, source, encoding_keys(home, config), sessions)
        get_run_logger().info("source %s: %s", source, outcome.as_dict())
        return outcome.as_dict()


@task(name="link-master-index", retries=2, retry_delay_seconds=5, retry_condition_fn=_is_transient, persist_result=False)
def link_task(home_path: str) -> dict[str, Any]:
    """Link new and changed records into the master index; returns counts."""
    from kim_hub.pipeline.linking import link_index

    with step_boundary("link-master-index"):
        with _hub(home_path) as (_home, config, sessions):
            outcome = link_index(sessions, config)
        get_run_logger().info("master index: %s", outcome.__dict__)
        return dict(outcome.__dict__)


@task(name="push-summaries", retries=2, retry_delay_seconds=5, retry_condition_fn=_is_transient, persist_result=False)
def push_task(home_path: str) -> dict[str, Any]:
    """Send changed case summaries and due notices; returns counts (a body whose delivery failed is retried next run)."""
    from kim_hub.pipeline.push import push_all

    with step_boundary("push-summaries"):
        with _hub(home_path) as (home, config, sessions):
            outcome = push_all(home, config, sessions)
        get_run_logger().info("push: %s", outcome.__dict__)
        return dict(outcome.__dict__)


@flow(name="kim-hub-push", flow_run_name=run_name, persist_result=False, log_prints=False)
def push_flow(home_path: str) -> dict[str, Any]:
    """Only the push step (after a consent change, or on its own schedule)."""
    _guard_process()
    with step_boundary("kim-hub-push"):
        return push_task(home_path)


@flow(name="kim-hub-report", flow_run_name=run_name, persist_result=False, log_prints=False)
def report_flow(home_path: str) -> dict[str, Any]:
    """Only the report (on its own schedule: the index changes between syncs by review and retention)."""
    _guard_process()
    with step_boundary("kim-hub-report"):
        return report_task(home_path)


@task(name="look-for-work", retries=2, retry_delay_seconds=5, retry_condition_fn=_is_transient, persist_result=False)
def look_task(home_path: str, sources: list[str] | None = None, full: bool = False) -> dict[str, Any]:
    """What this sync has to do (``pipeline.sync_work``): the sources with work, and whether
    linking, push and report would find the state a quiet sync left. Digests and names only."""
    from kim_hub.pipeline.sync_work import look_for_work

    with step_boundary("look-for-work"):
        home = HubHome(Path(home_path))
        with _transient_database_errors():
            work = look_for_work(home, home.load_config(), sources, full)
        get_run_logger().info("sources with work: %s; state settled: %s", list(work.sources), work.settled)
        return {"sources": list(work.sources), "settled": work.settled, "state": work.state, "configuration": work.configuration}


@flow(name=SYNC_FLOW_NAME, flow_run_name=run_name, persist_result=False, log_prints=False)
def sync_flow(home_path: str, sources: list[str] | None = None, full: bool = False) -> dict[str, Any]:
    """One sync cycle: all (or the named) sources, then linking, push and the report. Returns the
    run summary. Each step is isolated: a source that fails (after the retries of transient
    errors) is named in ``failed`` and the other sources, linking, push and the report still run.

    Its first task looks for work (``pipeline.sync_work``): a source with nothing in its folders
    is not pulled, and a sync with nothing to do at all ends there, its summary saying
    ``nothing_new``. ``full``: every step, whatever the look found."""
    _guard_process()
    with step_boundary("kim-hub-sync"):
        return _sync(home_path, sources, full)


def _sync(home_path: str, sources: list[str] | None, full: bool = False) -> dict[str, Any]:
    """The sync flow's body: each step isolated, the run summary returned."""
    from kim_hub.pipeline.sync_work import SyncWork, nothing_new_summary

    home = HubHome(Path(home_path))
    config = home.load_config()
    failed: dict[str, str] = {}
    looked = _isolated("look for work", failed, look_task, home_path, sources, full)
    work = SyncWork(tuple(looked["sources"]), looked["settled"], looked["state"], looked["configuration"]) if looked else None
    if work is not None and work.nothing:
        summary = nothing_new_summary(home)
        get_run_logger().info("run summary: %s", summary)
        return summary
    per_source = {}
    for source in work.sources if work is not None else sources or list(config.sources):
        counts = _isolated(f"source {source}", failed, ingest_source_task, home_path, source)
        if counts is not None:
            per_source[source] = counts
    summary = {
        "sources": per_source,
        "linking": _isolated("linking", failed, link_task, home_path),
        "push": _isolated("push", failed, push_task, home_path),
        "records_rejected": sum(int(s["records_rejected"]) for s in per_source.values()),
        "files_rejected": sum(int(s["files_rejected"]) for s in per_source.values()),
        "files_failed": sum(int(s["files_failed"]) for s in per_source.values()),
        "failed": failed,
    }
    get_run_logger().info("run summary: %s", summary)
    report = _isolated("report", failed, report_task, home_path, summary)
    if report is not None:  # after the report is made from the summary: where it is, and whether it was rewritten
        summary["report"] = {key: report[key] for key in ("written", "page", "generated_at")}
    _note_quiet(home, config, work, summary)
    return summary


def _note_quiet(home: HubHome, config: HubConfig, work: SyncWork | None, summary: dict[str, Any]) -> None:
    """After a run: note the state as quiet if the run was complete, failed nowhere and changed
    nothing (``pipeline.sync_work.note_quiet``); after a failure, forget any note, so the next
    sync runs every step. A failure to note is logged by kind and only costs the next sync time."""
    from kim_hub.pipeline.sync_work import forget_quiet, note_quiet

    push = summary["push"] or {}
    complete = (
        not summary["failed"] and not summary["files_failed"] and not push.get("failed") and not push.get("documents_refused")
    )
    try:
        if work is None or not complete:
            forget_quiet(home)
        else:
            note_quiet(home, config, work, summary.get("report"))
    except Exception as error:  # noqa: BLE001 - the note only saves time; the run itself is done
        get_run_logger().warning("the sync's quiet mark was not written (%s)", kind_of(error))


def _isolated(step: str, failed: dict[str, str], task: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any] | None:
    """Run one step of a sync; if it fails, note the kind of failure (the exception's type, never
    its message, which may quote a value; a StepError's original kind) and let the run go on."""
    try:
        return task(*args)
    except Exception as error:  # noqa: BLE001 - one step's failure must not stop the others
        failed[step] = kind_of(error)
        get_run_logger().error("%s failed (%s); the run goes on", step, failed[step])
        return None


@flow(name="kim-hub-reestimate", flow_run_name=run_name, persist_result=False, log_prints=False)
def reestimate_flow(home_path: str, relink: bool = False) -> dict[str, Any]:
    """Re-learn the linkage model from the whole index (scheduled, or after a large import)."""
    from kim_hub.pipeline.linking import link_index, reestimate_model

    _guard_process()
    with step_boundary("kim-hub-reestimate"):
        with _hub(home_path) as (_home, config, sessions):
            version = reestimate_model(sessions, relink)
            linking = link_index(sessions, config) if relink else None
        summary = {"model_version": version, "linking": linking.__dict__ if linking else None}
        get_run_logger().info("re-estimated: %s", summary)
        return summary


@flow(name="kim-hub-retention", flow_run_name=run_name, persist_result=False, log_prints=False)
def retention_flow(home_path: str) -> dict[str, Any]:
    """Erase records held only for linkage past their period and records whose case closed longer
    ago than their source's retention period, purge the copies of deliveries (archive/, failed/,
    receipts) kept longer than theirs and audit log entries older than their channel's, and
    publish the report with the counts. Returns the counts: ``sources`` (per source) and
    ``audit_log`` (entries removed per channel)."""
    from kim_hub.pipeline.audit import purge_log
    from kim_hub.pipeline.erasure import apply_retention

    _guard_process()
    with step_boundary("kim-hub-retention"):
        with _hub(home_path) as (home, config, sessions):
            erased = apply_retention(home, config, sessions)
            purged = purge_log(home, config)
        get_run_logger().info("retention: %s; audit log: %s", erased, purged)
        if any(counts["records_erased"] or counts["linkage_only_purged"] for counts in erased.values()):
            push_task(home_path)  # erasure notices to who received the erased records' data
        run = {
            "kind": "retention",
            "sources": erased,
            "linkage_only_purged": sum(counts["linkage_only_purged"] for counts in erased.values()),
        }
        _isolated("report", {}, report_task, home_path, run)  # the index changed: so does the report
        return {"sources": erased, "audit_log": purged}
