"""The coordinator's report as data: aggregates of ``HubFacts``, JSON-ready, pseudonyms only.

The JSON document is published with a schema (``docs/report.schema.json``); the HTML page and
the Prefect artifact are renderings of it. ``changes`` compares the flat counts with the
previous report's (``count_index``), so a coordinator sees what moved since the last run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from kim_hub.exchange.gaps import out_of_reach
from kim_hub.reporting.facts import HubFacts, RecordFact

SCHEMA_VERSION = 1
UNKNOWN = "unknown"
LEFT = "left"  # a job-centre Abgang with no later framework known
QUALITY_FIELDS = (
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "nationality",
    "postcode",
    "azr_number",
    "rechtskreis",
    "residence_status",
    "case_status",
    "case_opened",
    "district",
)
CASE_FIELDS = ("rechtskreis", "residence_status", "case_status", "case_opened", "district")
GAP_NOTE = (
    "Preliminary: persons whose every record is closed (case closed, or left the job centre), "
    "except those who died or left Germany. The case-summary exchange issue will refine chain-gap detection."
)
PERSONS_PER_DISTRICT_LISTED = 20
DELIVERY_DAYS_KEPT = 30


def record_ended(record: RecordFact) -> bool:
    """A record that no longer stands for an active case: closed, or the last snapshot event is an Abgang."""
    if record.case_status == "closed" or record.case_closed is not None:
        return True
    flow = [e.kind for e in record.events if e.kind in ("abgang", "zugang")]
    return bool(flow) and flow[-1] == "abgang"


def _observed(record: RecordFact) -> dt.date:
    return record.case_opened or record.updated_at or dt.date.min


def rechtskreis_path(records: Iterable[RecordFact]) -> list[str | None]:
    """A person's sequence of Rechtskreise over time (records and dated events; ``None`` = left)."""
    observations: list[tuple[dt.date, int, str | None]] = []
    for record in records:
        if record.rechtskreis:
            observations.append((_observed(record), 0, record.rechtskreis))
        for event in record.events:
            if event.rechtskreis:
                observations.append((event.on, 1, event.rechtskreis))
            elif event.kind == "abgang":
                observations.append((event.on, 2, None))
    observations.sort(key=lambda o: (o[0], o[1]))
    path: list[str | None] = []
    for _on, _order, value in observations:
        if value is None and path and path[-1] is None:
            continue
        if not path or path[-1] != value:
            path.append(value)
    # an Abgang followed by a known framework is not a framework of its own
    return [v for k, v in enumerate(path) if v is not None or k == len(path) - 1]


def transitions(path: Sequence[str | None]) -> set[tuple[str, str]]:
    """Distinct changes of framework in one person's path (``left`` when the destination is unknown)."""
    return {(a, b if b is not None else LEFT) for a, b in pairwise(path) if a is not None and a != b}


def current_state(records: Sequence[RecordFact]) -> tuple[str, str]:
    """(Rechtskreis, residence status) now: the latest of the records still running; the
    foreigners authority's residence status before anyone else's."""
    running = [r for r in records if not record_ended(r)] or list(records)
    latest = sorted(running, key=_observed)
    rechtskreis = next((r.rechtskreis for r in reversed(latest) if r.rechtskreis), None)
    observed: list[tuple[bool, dt.date, str]] = []
    for record in records:
        authority = record.source == "abh"
        if record.residence_status:
            observed.append((authority, _observed(record), record.residence_status))
        observed += [(authority, e.on, e.residence_status) for e in record.events if e.residence_status]
    residence = max(observed)[2] if observed else None
    return rechtskreis or UNKNOWN, residence or UNKNOWN


def _district(records: Sequence[RecordFact]) -> str:
    known = [r for r in sorted(records, key=_observed) if r.district]
    return known[-1].district if known else UNKNOWN  # type: ignore[return-value]


def _normalise_reason(reason: str) -> str:
    """Reasons never hold values, but some name row numbers: group them regardless."""
    return re.sub(r"\d+", "#", reason)


def build_report(
    facts: HubFacts,
    generated_at: dt.datetime,
    previous: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
    lang: str = "de",
) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    persons: dict[str, list[RecordFact]] = defaultdict(list)
    for record in facts.records:
        if record.person:
            persons[record.person].append(record)
    sources = sorted({r.source for r in facts.records} | {d.source for d in facts.deliveries})
    records_per_source = Counter(r.source for r in facts.records)
    person_sources = {p: sorted({r.source for r in recs}) for p, recs in persons.items()}
    spread = Counter(min(len(s), 3) for s in person_sources.values())
    overlap = [[sum(1 for s in person_sources.values() if a in s and b in s) for b in sources] for a in sources]

    states = {p: current_state(recs) for p, recs in persons.items()}
    by_rechtskreis = Counter(rk for rk, _status in states.values())
    by_status = Counter(states.values())
    moves: Counter[tuple[str, str]] = Counter()
    for recs in persons.values():
        moves.update(transitions(rechtskreis_path(recs)))

    gaps: dict[str, list[str]] = defaultdict(list)
    for person, recs in sorted(persons.items()):
        if facts.held is not None and person not in facts.held:
            continue  # held only for linkage: in no list of persons (exchange.legal_basis)
        if all(record_ended(r) for r in recs) and not out_of_reach((e.on, e.kind) for r in recs for e in r.events):
            gaps[_district(recs)].append(person)

    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "lang": lang,
        "run": run,
        "totals": {
            "records": len(facts.records),
            "records_unlinked": sum(1 for r in facts.records if not r.person),
            "persons": len(persons),
            "persons_multi_source": sum(1 for s in person_sources.values() if len(s) > 1),
            "open_review_items": facts.open_reviews,
            "rejected_rows": sum(d.rejected for d in facts.deliveries),
            "chain_gap_persons": sum(len(v) for v in gaps.values()),
        },
        "sources": [
            {
                "source": source,
                "records": records_per_source.get(source, 0),
                "persons": sum(1 for s in person_sources.values() if source in s),
                "deliveries": [
                    {
                        "day": d.day.isoformat(),
                        "files": d.files,
                        "rows": d.rows,
                        "accepted": d.accepted,
                        "unchanged": d.unchanged,
                        "rejected": d.rejected,
                    }
                    for d in facts.deliveries
                    if d.source == source
                ][-DELIVERY_DAYS_KEPT:],
            }
            for source in sources
        ],
        "persons_by_source_count": {"1": spread.get(1, 0), "2": spread.get(2, 0), "3+": spread.get(3, 0)},
        "overlap": {"sources": sources, "matrix": overlap},
        "rechtskreis": {
            "persons": dict(sorted(by_rechtskreis.items())),
            "by_residence_status": [
                {"rechtskreis": rk, "residence_status": status, "persons": n} for (rk, status), n in sorted(by_status.items())
            ],
            "transitions": [
                {"from": a, "to": b, "persons": n} for (a, b), n in sorted(moves.items(), key=lambda m: (-m[1], m[0]))
            ],
        },
        "review": {
            "open": facts.open_reviews,
            "items": [
                {
                    "id": item.id,
                    "score": round(item.score, 4),
                    "a": {"source": item.source_a, "person": item.person_a},
                    "b": {"source": item.source_b, "person": item.person_b},
                    "evidence": item.evidence,
                }
                for item in facts.reviews
            ],
        },
        "chain_gaps": {
            "method": "closed_only",
            "note": GAP_NOTE,
            "by_district": [
                {"district": district, "persons": len(people), "pseudonyms": people[:PERSONS_PER_DISTRICT_LISTED]}
                for district, people in sorted(gaps.items(), key=lambda g: (-len(g[1]), g[0]))
            ],
        },
        "data_quality": [_quality(source, facts) for source in sources],
    }
    report["changes"] = diff_counts(previous, report)
    return report


def _quality(source: str, facts: HubFacts) -> dict[str, Any]:
    records = [r for r in facts.records if r.source == source]
    dated = [r for r in records if r.birth_precision]
    missing: dict[str, float] = {}
    for field in QUALITY_FIELDS:
        if field in CASE_FIELDS:
            absent = sum(1 for r in records if getattr(r, field) in (None, ""))
        else:
            absent = sum(1 for r in records if field not in r.present)
        missing[field] = round(absent / len(records), 4) if records else 0.0
    reasons: Counter[tuple[str, str]] = Counter()
    for rejection in facts.rejections:
        if rejection.source == source:
            reasons[(rejection.field or "-", _normalise_reason(rejection.reason))] += rejection.count
    return {
        "source": source,
        "records": len(records),
        "rejected_rows": sum(d.rejected for d in facts.deliveries if d.source == source),
        "rejections": [
            {"field": f, "reason": r, "count": n} for (f, r), n in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))
        ],
        "birth_date_placeholder_share": round(sum(r.birth_placeholder for r in dated) / len(dated), 4) if dated else None,
        "birth_date_precision": {p: sum(1 for r in records if r.birth_precision == p) for p in ("day", "month", "year")}
        | {"missing": sum(1 for r in records if not r.birth_precision)},
        "missing_share": missing,
    }


def count_index(report: dict[str, Any]) -> dict[str, int]:
    """The report's counts as one flat mapping (what ``changes`` compares)."""
    counts = {f"totals.{k}": int(v) for k, v in report["totals"].items()}
    counts |= {f"records.{s['source']}": s["records"] for s in report["sources"]}
    counts |= {f"persons_by_source_count.{k}": v for k, v in report["persons_by_source_count"].items()}
    counts |= {f"rechtskreis.{k}": v for k, v in report["rechtskreis"]["persons"].items()}
    counts |= {f"chain_gaps.{g['district']}": g["persons"] for g in report["chain_gaps"]["by_district"]}
    counts |= {f"rejected_rows.{q['source']}": q["rejected_rows"] for q in report["data_quality"]}
    return counts


def diff_counts(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """Counts that changed since the previous report (all counts when there is none)."""
    now = count_index(current)
    if previous is None:
        return {"previous_generated_at": None, "counts": []}
    try:
        before = count_index(previous)
    except (KeyError, TypeError):  # a report of an older, incompatible shape: start afresh
        return {"previous_generated_at": previous.get("generated_at"), "counts": []}
    changed = [
        {"key": key, "previous": before.get(key), "current": now.get(key), "delta": now.get(key, 0) - before.get(key, 0)}
        for key in sorted(set(now) | set(before))
        if now.get(key) != before.get(key)
    ]
    return {"previous_generated_at": previous.get("generated_at"), "counts": changed}


__all__ = ["build_report", "count_index", "current_state", "diff_counts", "rechtskreis_path", "record_ended", "transitions"]
