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
}


def test_gap_list_matches_the_known_truth() -> None:
    found = {name: find_gap(name, records, PROVIDERS, 30, TODAY) for name, (records, _truth) in POPULATION.items()}
    assert {name: (gap.trigger if gap else None) for name, gap in found.items()} == {
        name: truth for name, (_r, truth) in POPULATION.items()
    }
    gap = found["P-CLOSED"]
    assert gap.bodies == ("awo", "jobcenter") and gap.district == "Wiesdorf" and gap.since == dt.date(2026, 9, 1)
