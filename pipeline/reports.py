"""Publishing the coordinator's report: the home's facts, compared with the last published report.

``write_reports`` publishes into the home's ``reports/``: ``report.json`` and ``report.html``,
the previous JSON kept as ``report-previous.json``, the baseline of the next report's "changes
since the previous run", and ``report-inputs.json``, a digest of what the report was made from.
`kim-hub report` without ``--out`` always does this; a sync run does it only when something the
report depends on changed (``publish_report``, ``reporting.inputs``), so a sync that found
nothing new leaves the report, its "changes" and its time stamp as they were.
The aggregation itself is pure (``reporting``); this module reads the facts and writes the files.
The report lists pseudonyms (open review items, an excerpt of the chain gaps), so making one is a
read of person-level data in the audit log, naming those persons (``pipeline.audit``).

The web application shows the same report live (``live_report``: made from the database as it is,
published nowhere) to a coordinator, and hands out the state's monitoring export
(``monitoring_export``, which `kim-hub monitoring` writes as well): one code path for both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kim_hub.core.access import Access, Actor
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import person_objects
from kim_hub.hub_db.legal_basis import held_pseudonyms
from kim_hub.hub_db.report_queries import collect_facts
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.vocabulary import vocabulary
from kim_hub.reporting.facts import HubFacts
from kim_hub.reporting.inputs import found_nothing, inputs_digests
from kim_hub.reporting.model import build_report
from kim_hub.reporting.monitoring import monitoring_csv, monitoring_document, parse_period
from kim_hub.reporting.suppression import DEFAULT_THRESHOLD

REPORT_JSON, REPORT_HTML, PREVIOUS_JSON = "report.json", "report.html", "report-previous.json"
INPUTS_JSON = "report-inputs.json"  # digest of what the published report was made from (reporting.inputs)


def now() -> dt.datetime:
    """The report's time stamp (UTC)."""
    return dt.datetime.now(dt.UTC)


def collect(home: HubHome, review_limit: int = 200) -> HubFacts:
    """The facts of a home's database (see hub_db.report_queries), each district shown by its
    label from the installation's list, and one that stands for no entry (free text stored before
    the list was closed) by none: the report, the monitoring export and their charts publish
    labels of the list only. Persons are listed by pseudonym only when the hub may hold them for
    KIM (``exchange.legal_basis``)."""
    config = home.load_config()
    districts = vocabulary(home, config).districts
    with open_sessions(home, config) as sessions, sessions() as session:
        held = frozenset(held_pseudonyms(session, source_bases(config), kim_policy(config)))
        return collect_facts(session, review_limit, held, districts.label_of)


def _previous(home: HubHome) -> dict[str, Any] | None:
    path = home.reports / REPORT_JSON
    try:
        previous: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return previous


def make_report(
    home: HubHome, run: dict[str, Any] | None = None, lang: str = "de", access: Access | None = None
) -> dict[str, Any]:
    """Build the report of a home, compared with the last published one (a read in the audit log)."""
    report = build_report(collect(home), now(), _previous(home), run, lang)
    _record_listed(home, report, "report.write", access)
    return report


def live_report(
    home: HubHome,
    lang: str = "de",
    *,
    districts: Collection[str] | None = None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> str:
    """The report page (``reporting.html``) made from the database as it is now and compared with
    the last published report, as `kim-hub report --out` makes it: the same figures, published
    nowhere. For a reader granted ``districts`` (codes of the list; None: all) the chain gaps of
    other districts keep their counts and lose their pseudonyms. A read ``report.show`` in the
    audit log as ``actor``, naming the persons the page lists."""
    report = build_report(collect(home), now(), _previous(home), None, lang)
    if districts is not None:
        labels = vocabulary(home, home.load_config()).districts.labels
        report = _gap_pseudonyms_of(report, {labels[code] for code in districts if code in labels})
    _record_listed(home, report, "report.show", None, actor, context)
    from kim_hub.reporting.html import render_html  # matplotlib: imported only when a page is rendered

    return render_html(report, lang)


def _gap_pseudonyms_of(report: dict[str, Any], labels: set[str]) -> dict[str, Any]:
    """The report with the chain gap pseudonyms of districts outside ``labels`` withheld."""
    by_district = [
        entry if entry["district"] in labels else {**entry, "pseudonyms": []} for entry in report["chain_gaps"]["by_district"]
    ]
    return {**report, "chain_gaps": {**report["chain_gaps"], "by_district": by_district}}


def _record_listed(
    home: HubHome,
    report: dict[str, Any],
    action: str,
    access: Access | None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> None:
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            objects = person_objects(session, listed_pseudonyms(report))
        record_read(sessions, config, action, objects, access, {**(context or {}), "persons_listed": len(objects)})


@dataclass(frozen=True)
class MonitoringExport:
    """The state's monitoring export of one period: its label (``2026-Q4``) and the file's text."""

    period: str
    text: str


def monitoring_export(
    home: HubHome, period: str, threshold: int | None = None, file_format: str = "csv", lang: str = "en"
) -> MonitoringExport:
    """Aggregate case counts of ``period`` (YYYY-Qn, YYYY-MM or YYYY), small cells suppressed
    (``reporting.monitoring``), as CSV (spreadsheet-safe) or JSON. Counts only: no read of
    person-level data. A period or threshold it cannot take is a ConfigError naming the rule."""
    try:
        parsed = parse_period(period)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    if threshold < 2:
        raise ConfigError("--threshold must be at least 2")
    document = monitoring_document(collect(home, review_limit=1).records, parsed, now(), threshold, lang)
    text = monitoring_csv(document) if file_format == "csv" else json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    return MonitoringExport(parsed.label, text)


def listed_pseudonyms(report: dict[str, Any]) -> list[str | None]:
    """Every pseudonym the report shows: both sides of its review items, its chain gap excerpts."""
    review = [side["person"] for item in report["review"]["items"] for side in (item["a"], item["b"])]
    gaps = [pseudonym for district in report["chain_gaps"]["by_district"] for pseudonym in district["pseudonyms"]]
    return [*review, *gaps]


def write_atomically(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report. The partial file's name is this
    writer's own: two syncs publishing at once each replace the page whole (the last one stays),
    where a shared name let one rename the other's partial file away (FileNotFoundError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def report_json(report: dict[str, Any]) -> str:
    """The report document as published."""
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


def write_reports(
    home: HubHome, run: dict[str, Any] | None = None, lang: str = "de", access: Access | None = None
) -> dict[str, Any]:
    """Publish the report into reports/ (JSON + HTML), keeping the previous JSON; returns it.
    Always written (`kim-hub report`); a sync publishes only what changed (``publish_report``)."""
    facts = collect(home)
    day = now().date()
    digest, facts_digest = inputs_digests(facts, (run, None), lang, day)
    return _publish(home, facts, digest, facts_digest, run, lang, access)


@dataclass(frozen=True)
class Publication:
    """A report step's outcome: the published report, whether it was written now (False: its
    inputs were those of the report already there, which stays), and where its page is."""

    report: dict[str, Any]
    written: bool
    page: Path


def publish_report(
    home: HubHome, run: dict[str, Any] | None = None, lang: str = "de", access: Access | None = None
) -> Publication:
    """Publish the report as ``write_reports`` does, unless the published one was made from the
    same inputs (``reporting.inputs``: the facts, the run, the language, the day) and is still
    the file that was written then: then nothing is rendered or written, and since nothing is
    shown to anyone, no read is logged either. A sync run, the retention run and the report's
    schedule publish this way."""
    facts = collect(home)
    day = now().date()
    digest, facts_digest = inputs_digests(facts, (run, None), lang, day)  # the facts read once for both
    page = home.reports / REPORT_HTML
    standing = _published_from(home, digest, facts_digest if found_nothing(run) else None)
    if standing is not None:
        return Publication(standing, False, page)
    return Publication(_publish(home, facts, digest, facts_digest, run, lang, access), True, page)


def _published_from(home: HubHome, digest: str, facts_digest: str | None = None) -> dict[str, Any] | None:
    """The published report if it was made from inputs of ``digest`` (or, given ``facts_digest``
    for a run that found nothing new, from the same facts, language and day for whatever run)
    and its files are as they were written then (the JSON's hash, the page present); else None."""
    try:
        inputs = json.loads((home.reports / INPUTS_JSON).read_text(encoding="utf-8"))
        text = (home.reports / REPORT_JSON).read_text(encoding="utf-8")
        standing: dict[str, Any] = json.loads(text)
    except (OSError, ValueError):
        return None
    fresh = (
        isinstance(inputs, dict)
        and (inputs.get("inputs") == digest or (facts_digest is not None and inputs.get("facts") == facts_digest))
        and inputs.get("report") == _text_hash(text)
        and (home.reports / REPORT_HTML).is_file()
    )
    return standing if fresh else None


def _publish(
    home: HubHome,
    facts: HubFacts,
    digest: str,
    facts_digest: str,
    run: dict[str, Any] | None,
    lang: str,
    access: Access | None,
) -> dict[str, Any]:
    """Render and write the report of ``facts`` (a read in the audit log), keeping the previous
    JSON, and note the inputs it was made from: with the run (``digest``) and without it
    (``facts_digest``: the facts, language and day, what a sync that found nothing new compares)."""
    from kim_hub.reporting.html import render_html  # matplotlib: imported only when a page is rendered

    report = build_report(facts, now(), _previous(home), run, lang)
    _record_listed(home, report, "report.write", access)
    published = home.reports / REPORT_JSON
    if published.exists():
        with contextlib.suppress(FileNotFoundError):  # a sync publishing at the same time moved it first
            os.replace(published, home.reports / PREVIOUS_JSON)
    write_atomically(home.reports / REPORT_HTML, render_html(report, lang))
    text = report_json(report)
    write_atomically(published, text)
    noted = {"inputs": digest, "facts": facts_digest, "report": _text_hash(text)}
    write_atomically(home.reports / INPUTS_JSON, json.dumps(noted) + "\n")
    return report


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
