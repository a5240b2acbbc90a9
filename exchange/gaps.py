"""Chain gaps: someone changed legal framework (or a case ended) and nobody has picked them up.

Pure rules over what the hub holds per person. A *trigger* is a dated change that should lead to
case management somewhere: a recognition (the authority's status message to a protection or
residence title), an entry into SGB II (the job centre's Zugang, or its first record), or a case
closed at a provider. A *gap* is a trigger older than ``gap_days`` after which the person has no
active case at any case-management provider. Nothing here sees identity: persons are pseudonyms.

A person who died, or whose latest move the authority reported is leaving Germany (``ausreise``),
is out of reach of every body here: no gap, whatever triggered before. A move inside Germany
(``wegzug``) or a change of the responsible authority (``zustaendigkeitswechsel``) is not: the
thread breaks there most often, so a trigger without a case afterwards still shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kim_hub.exchange.summary import ACTIVE, DEATH, HeldRecord, latest_district

RECOGNISED_PREFIXES = ("AE_", "NE", "BLAUE_KARTE", "DAUERAUFENTHALT_EU", "EINGEBUERGERT")
JOBCENTRE = "jobcenter"
LEFT_GERMANY = "ausreise"
# the authority's reports of where the person is (or that they are no more): the latest one counts
MOVES = ("zuzug", "wegzug", "zustaendigkeitswechsel", LEFT_GERMANY, DEATH)


@dataclass(frozen=True)
class Gap:
    pseudonym: str
    district: str
    trigger: str  # recognised | sgb2_entry | case_closed
    since: dt.date
    bodies: tuple[str, ...]  # who knows the person (and may act)


def find_gap(
    pseudonym: str, records: Sequence[HeldRecord], providers: Sequence[str], gap_days: int, today: dt.date
) -> Gap | None:
    """The person's gap, if there is one (the latest trigger counts)."""
    if any(r.source in providers and r.case.get("case_status") in ACTIVE for r in records):
        return None
    if person_out_of_reach(records):
        return None
    triggers = [t for r in records for t in _triggers(r, providers)]
    if not triggers:
        return None
    kind, since = max(triggers, key=lambda t: t[1])
    if (today - since).days < gap_days:
        return None
    return Gap(pseudonym, latest_district(records), kind, since, tuple(sorted({r.source for r in records})))


def person_out_of_reach(records: Sequence[HeldRecord]) -> bool:
    """``out_of_reach`` over the events of all the person's records."""
    return out_of_reach((dt.date.fromisoformat(e["on"]), e["kind"]) for r in records for e in r.case.get("events") or ())


def out_of_reach(events: Iterable[tuple[dt.date, str]]) -> bool:
    """Died, or left Germany and not reported back since: nobody here can pick the person up.

    ``events`` are (day, kind) of all the person's records; a move reported after a departure
    (``zuzug``) undoes it, nothing undoes a death."""
    moves = sorted((on, kind) for on, kind in events if kind in MOVES)
    return any(kind == DEATH for _on, kind in moves) or (bool(moves) and moves[-1][1] == LEFT_GERMANY)


def _triggers(record: HeldRecord, providers: Sequence[str]) -> list[tuple[str, dt.date]]:
    found = []
    for event in record.case.get("events") or ():
        status = event.get("residence_status") or ""
        on = dt.date.fromisoformat(event["on"])
        if event["kind"] in ("statusaenderung", "einbuergerung") and status.startswith(RECOGNISED_PREFIXES):
            found.append(("recognised", on))
        if event["kind"] == "zugang":
            found.append(("sgb2_entry", on))
    if record.source == JOBCENTRE and record.case.get("case_opened") and record.case.get("case_status") in ACTIVE:
        found.append(("sgb2_entry", dt.date.fromisoformat(record.case["case_opened"])))
    if record.source in providers and record.case.get("case_status") == "closed" and record.case.get("case_closed"):
        found.append(("case_closed", dt.date.fromisoformat(record.case["case_closed"])))
    return found
