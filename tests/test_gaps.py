"""Chain gaps on a small population whose truth the test knows."""

from __future__ import annotations

import datetime as dt

from kim_hub.exchange.gaps import find_gap
from kim_hub.exchange.summary import HeldRecord

TODAY = dt.date(2026, 11, 25)
PROVIDERS = ("caritas", "awo", "diakonie", "stadt")


def record(
    source: str, status: str | None = None, opened: str | None = None, closed: str | None = None, events=(), district="Wiesdorf"
) -> HeldRecord:
    case = {
        "case_status": status,
        "case_opened": opened,
        "case_closed": closed,
        "events": list(events),
        "district": district,
        "updated_at": "2026-11-01",
    }
    return HeldRecord(source, f"{source}-x", case)


def recognised(on: str) -> dict:
    return {"kind": "statusaenderung", "on": on, "residence_status": "AE_25_2_GFK"}


def reported(kind: str, on: str) -> dict:
    """One of the authority's reports of a move, a departure or a death (schema 1.1)."""
    return {"kind": kind, "on": on}


POPULATION = {
    # recognised two months ago, no case anywhere → gap
    "P-RECOGNISED": ([record("abh", events=[recognised("2026-09-20")])], "recognised"),
    # recognised, but caritas has an active case → no gap
    "P-PICKED-UP": ([record("abh", events=[recognised("2026-09-20")]), record("caritas", "active", "2026-10-01")], None),
    # recognised last week: still within the grace period → no gap
    "P-RECENT": ([record("abh", events=[recognised("2026-11-20")])], None),
    # newly in SGB II for three months, no provider case → gap
    "P-SGB2": ([record("jobcenter", "active", "2026-08-01")], "sgb2_entry"),
    # case closed at awo without hand-over → gap
    "P-CLOSED": (
        [record("awo", "closed", "2025-01-01", "2026-09-01"), record("jobcenter", "closed", "2024-01-01", "2026-01-01")],
        "case_closed",
    ),
    # nothing happened (no trigger) → no gap
    "P-QUIET": ([record("abh")], None),
    # recognised, then died: nobody can pick the person up → no gap
    "P-DIED": ([record("abh", events=[recognised("2026-09-20")]), record("stadt", events=[reported("tod", "2026-10-01")])], None),
    # a provider closed the case after the death: still no gap
    "P-DIED-CLOSED": (
        [record("awo", "closed", "2025-01-01", "2026-10-20"), record("abh", "closed", events=[reported("tod", "2026-10-10")])],
        None,
    ),
    # recognised, then left Germany → no gap
    "P-LEFT-GERMANY": ([record("abh", "closed", events=[recognised("2026-09-20"), reported("ausreise", "2026-10-01")])], None),
    # left Germany and came back (a later zuzug): the recognition counts again → gap
    "P-RETURNED": (
        [record("abh", events=[recognised("2026-09-20"), reported("ausreise", "2026-10-01"), reported("zuzug", "2026-10-15")])],
        "recognised",
    ),
    # moved inside Germany / another authority responsible: where the thread breaks most often → still a gap
    "P-MOVED": ([record("abh", "closed", events=[recognised("2026-09-20"), reported("wegzug", "2026-10-01")])], "recognised"),
    "P-OTHER-AUTHORITY": (
        [record("abh", "closed", events=[recognised("2026-09-20"), reported("zustaendigkeitswechsel", "2026-10-01")])],
        "recognised",
    ),
}


def test_gap_list_matches_the_known_truth() -> None:
    found = {name: find_gap(name, records, PROVIDERS, 30, TODAY) for name, (records, _truth) in POPULATION.items()}
    assert {name: (gap.trigger if gap else None) for name, gap in found.items()} == {
        name: truth for name, (_r, truth) in POPULATION.items()
    }
    gap = found["P-CLOSED"]
    assert gap.bodies == ("awo", "jobcenter") and gap.district == "Wiesdorf" and gap.since == dt.date(2026, 9, 1)
