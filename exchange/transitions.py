"""Rechtskreiswechsel: the dated changes of legal framework the bodies reported about a person.

Only what the responsible body reported counts as a change — the authority's status messages
(a new residence title, naturalisation) and the job centre's entries and exits — because stale
copies of a status in provider records would otherwise look like changes back and forth. What
the person held before (and after an exit) is read from every record's latest observation on the
other side of the event's date. Pure: persons are pseudonyms, records are what the hub holds.
The authority's reports of moves, departure and death (``zuzug``, ``wegzug``,
``zustaendigkeitswechsel``, ``ausreise``, ``tod``) change no framework and are not listed here:
they close the authority's case, and exchange/gaps.py and the push decide what follows from them.
A person out of reach (died, or left Germany and not reported back: ``gaps.out_of_reach``) leaves
this worklist with all their changes, as they leave the chain gaps: nobody here can act on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from kim_hub.exchange.gaps import person_out_of_reach
from kim_hub.exchange.summary import HeldRecord, latest_district

SGB_II = "SGB II"
LEFT = "left"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Transition:
    pseudonym: str
    district: str
    on: dt.date
    kind: str  # statusaenderung | einbuergerung | zugang | abgang (the reported event)
    before: str  # residence status or Rechtskreis before ("unknown" when nothing was observed)
    after: str
    bodies: tuple[str, ...]  # who knows the person (and may act)


def transitions_of(pseudonym: str, records: Sequence[HeldRecord]) -> list[Transition]:
    """The person's reported changes of framework, oldest first; none for a person out of reach."""
    if person_out_of_reach(records):
        return []
    residence = _observations(records, "residence_status")
    rechtskreis = _observations(records, "rechtskreis")
    district = latest_district(records)
    bodies = tuple(sorted({r.source for r in records}))
    found = []
    for record in records:
        for event in record.case.get("events") or ():
            on = dt.date.fromisoformat(event["on"])
            kind = event["kind"]
            if kind in ("statusaenderung", "einbuergerung") and event.get("residence_status"):
                before, after = _before(residence, on), event["residence_status"]
            elif kind == "zugang":
                before, after = _before(rechtskreis, on, other_than=SGB_II), SGB_II
            elif kind == "abgang":
                before, after = SGB_II, _after(rechtskreis, on, other_than=SGB_II) or LEFT
            else:
                continue
            if before != after:
                found.append(Transition(pseudonym, district, on, kind, before, after, bodies))
    return sorted(set(found), key=lambda t: (t.on, t.kind))


def _observations(records: Sequence[HeldRecord], field: str) -> list[tuple[dt.date, str]]:
    """(date, value) of a field: each record's value as of its last update, and every event's."""
    seen = []
    for record in records:
        value, stamp = record.case.get(field), record.case.get("updated_at") or record.case.get("case_opened")
        if value and stamp:
            seen.append((dt.date.fromisoformat(stamp), value))
        seen += [(dt.date.fromisoformat(e["on"]), e[field]) for e in record.case.get("events") or () if e.get(field)]
    return sorted(seen)


def _before(observed: list[tuple[dt.date, str]], on: dt.date, other_than: str | None = None) -> str:
    earlier = [value for when, value in observed if when < on and value != other_than]
    return earlier[-1] if earlier else UNKNOWN


def _after(observed: list[tuple[dt.date, str]], on: dt.date, other_than: str) -> str | None:
    later = [value for when, value in observed if when > on and value != other_than]
    return later[0] if later else None
