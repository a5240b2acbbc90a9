"""`kim-hub retention --plan`: every data category the hub keeps, its rule, and what is due now.

SDM module 60 asks that each data category has a deletion rule with a period and the event the
period starts from. This is that list, read from hub.toml and the code, with the counts a run of
`kim-hub retention` would erase or purge now — and nothing deleted. A category with no period
says so ("kept"), and where its rule is another part of the hub's (or not built yet), the rule
column names it, so that the list a data-protection officer reads has no gaps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kim_hub.connectors.drop_folder import purge_folder
from kim_hub.hub_db.audit_chain import CHANNELS
from kim_hub.hub_db.audit_log import AuditFilter, count
from kim_hub.hub_db.erasure import expired_records
from kim_hub.hub_db.legal_basis import linkage_only_records
from kim_hub.pipeline.copies import copies_due
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.pipeline.legal_basis import kim_policy, source_bases

ALL = "all"
KEPT = "kept"


@dataclass(frozen=True)
class RetentionRule:
    """One data category's rule: how long, from when, set where, and how many are due now."""

    category: str
    scope: str  # a source, or ``all``
    period: str  # "365 days", "kept", or how the code bounds it
    start: str  # the event the period counts from
    rule: str  # where the rule is set (a hub.toml key, "built in", or the part of the hub that owns it)
    due: int | None  # how many are past the period now (None: no period, nothing to count)
    unit: str = ""


def retention_plan(home: HubHome, config: HubConfig, today: dt.date | None = None) -> list[RetentionRule]:
    """The rules of every category, with what is due now (counts only; nothing is deleted)."""
    rules: list[RetentionRule] = []
    bases = source_bases(config)
    now = dt.datetime.now(dt.UTC) if today is None else dt.datetime.combine(today, dt.time(), dt.UTC)
    with open_sessions(home, config) as sessions, sessions() as session:
        cutoffs = {s: now - dt.timedelta(days=config.sources[s].linkage_only_days) for s in bases.linkage_only}
        linkage_only_due = linkage_only_records(session, bases, kim_policy(config, now.date()), cutoffs)
        for source, settings in config.sources.items():
            due_records = (
                len(expired_records(session, source, settings.retention_days, today))
                if settings.retention_days is not None
                else None
            )
            rules += _source_rules(home, source, settings, due_records)
            rules.append(_linkage_only_rule(source, settings, source in bases.linkage_only, linkage_only_due.get(source, [])))
        audit = {
            channel: count(session, AuditFilter(channel=channel, until=now - dt.timedelta(days=days)))
            for channel, days in config.audit.retention_days.items()
        }
    rules += _hub_rules(home, config, audit)
    return rules


def _days(days: float | None) -> str:
    return KEPT if days is None else f"{days:g} days"


def _source_rules(home: HubHome, source: str, settings: SourceConfig, due_records: int | None) -> list[RetentionRule]:
    key = f"sources.{source}"
    copies = copies_due(home, source, settings)
    receipts_period = (
        _days(settings.receipt_days) if settings.receipt_days is not None else "as its delivery (archive_days, failed_days)"
    )
    return [
        RetentionRule(
            "case records (case data, encodings, links, events)",
            source,
            _days(settings.retention_days),
            "case closed (case_closed)",
            f"{key}.retention_days" + ("" if settings.retention_days is not None else " (not set)"),
            due_records,
            "records",
        ),
        RetentionRule(
            "archived deliveries (archive/)",
            source,
            _days(settings.archive_days),
            "claim",
            f"{key}.archive_days",
            copies.archive_purged,
            "files",
        ),
        RetentionRule(
            "deliveries rejected or set aside (failed/)",
            source,
            _days(settings.failed_days),
            "claim",
            f"{key}.failed_days",
            copies.failed_purged,
            "files",
        ),
        RetentionRule(
            "receipts (outbox/<source>/receipts/)",
            source,
            receipts_period,
            "receipt written",
            f"{key}.receipt_days" + ("" if settings.receipt_days is not None else " (not set)"),
            copies.receipts_purged,
            "files",
        ),
    ]


def _linkage_only_rule(source: str, settings: SourceConfig, linkage_only: bool, due: list[int]) -> RetentionRule:
    """Records a statute lets the hub hold for linkage only (``exchange.legal_basis``): kept
    ``linkage_only_days`` from their arrival, unless their person is held for KIM meanwhile."""
    category = "linkage-only statutory records"
    if not linkage_only:
        return RetentionRule(
            category,
            source,
            "—",
            "—",
            f"sources.{source}.legal_basis = {settings.legal_basis}: no record held only for linkage",
            None,
        )
    return RetentionRule(
        category,
        source,
        _days(settings.linkage_only_days),
        "arrival, unless the person is held for KIM by then",
        f"sources.{source}.linkage_only_days (legal_basis = {settings.legal_basis})",
        len(due),
        "records",
    )


def _hub_rules(home: HubHome, config: HubConfig, audit: dict[str, int]) -> list[RetentionRule]:
    reports_days = config.retention.reports_days
    rules = [
        RetentionRule(
            "persons (master index)", ALL, "with their last record", "last record erased", "built in (hub_db.erasure)", None
        ),
        RetentionRule(
            "summaries and notices (outbox/<body>/summaries/)",
            ALL,
            "until collected",
            "push",
            "built in: taken back on erasure and on withdrawal",
            None,
        ),
        RetentionRule(
            "summaries and notices held for collection over the API (held_documents)",
            ALL,
            "until acknowledged (then only id, kind and content hash, with the record), or no longer due",
            "push",
            "built in (hub_db.collection): taken back on erasure, on withdrawal and at every push that no longer plans them",
            None,
        ),
    ]
    rules += [
        RetentionRule(
            f"audit log: {channel} entries",
            ALL,
            _days(config.audit.retention_days.get(channel)),
            "entry written",
            f"audit.retention_days.{channel}" + ("" if channel in audit else " (not set)"),
            audit.get(channel),
            "entries",
        )
        for channel in CHANNELS
    ]
    rules += [
        RetentionRule(
            "reports (reports/)",
            ALL,
            _days(reports_days),
            "file last written",
            "retention.reports_days" + ("" if reports_days is not None else " (not set)"),
            purge_folder(home.reports, reports_days, dry_run=True) if reports_days is not None else None,
            "files",
        ),
        RetentionRule(
            "erasure ledger (tombstones: keyed digests and counts)",
            ALL,
            KEPT,
            "erasure",
            "built in: the proof of deletion, and what a restored backup is erased again by",
            None,
        ),
        RetentionRule(
            "database backups (kim-hub backup)",
            ALL,
            "the operator's: no longer than the data they hold",
            "backup taken",
            "operator; a restore erases again whatever the ledger recorded since",
            None,
        ),
    ]
    return rules
