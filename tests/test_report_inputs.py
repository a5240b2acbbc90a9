"""The digest of a report's inputs (reporting.inputs): the same in every process, and moved by any fact."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.reporting.facts import EventFact, HubFacts, RecordFact
from kim_hub.reporting.inputs import PIECE, inputs_digest

DAY = dt.date(2026, 12, 7)
RECORD = RecordFact(
    source="caritas",
    person="P-0A1B2C3D4E5F",
    link_status="auto",
    rechtskreis="SGB II",
    residence_status="AE_25_2",
    case_status="active",
    case_opened=dt.date(2026, 1, 2),
    district="nord",
    updated_at=dt.date(2026, 3, 2),
    sex="F",
    birth_precision="day",
    present=frozenset({"family_name", "given_names", "birth_date", "street", "postcode"}),
    events=(EventFact("moved_away", dt.date(2026, 2, 1), "SGB II"),),
)
CHANGED = {
    "source": "awo",
    "person": "P-FFFFFFFFFFFF",
    "link_status": "review",
    "rechtskreis": "AsylbLG",
    "residence_status": None,
    "case_status": "closed",
    "case_opened": dt.date(2026, 1, 3),
    "case_closed": dt.date(2026, 5, 1),
    "district": None,
    "updated_at": dt.date(2026, 3, 3),
    "sex": "M",
    "birth_precision": "year",
    "birth_placeholder": True,
    "present": frozenset({"family_name"}),
    "events": (),
}


def facts(records: tuple[RecordFact, ...], held: frozenset[str] | None = None) -> HubFacts:
    return HubFacts(records=records, deliveries=(), rejections=(), reviews=(), open_reviews=0, held=held)


def test_every_field_of_a_record_moves_the_digest() -> None:
    assert set(CHANGED) == {field.name for field in dataclasses.fields(RecordFact)}
    many = (RECORD,) * (PIECE + 5)  # beyond one piece
    before = inputs_digest(facts(many), None, "de", DAY)
    for name, value in CHANGED.items():
        for at in (0, PIECE + 2):
            changed = (*many[:at], dataclasses.replace(RECORD, **{name: value}), *many[at + 1 :])
            assert inputs_digest(facts(changed), None, "de", DAY) != before, (name, at)
    assert inputs_digest(facts(many[:-1]), None, "de", DAY) != before  # one record fewer


@given(st.frozensets(st.text(max_size=6), max_size=8))
@settings(max_examples=50, deadline=None)
def test_a_set_is_digested_whatever_order_it_iterates_in(members: frozenset[str]) -> None:
    ordered = sorted(members)
    rebuilt = frozenset(reversed(ordered))
    one = inputs_digest(facts((dataclasses.replace(RECORD, present=members),)), None, "de", DAY)
    other = inputs_digest(facts((dataclasses.replace(RECORD, present=rebuilt),)), None, "de", DAY)
    assert one == other


def test_the_same_digest_in_processes_with_other_string_hashes(tmp_path: Path) -> None:
    """Python salts str hashes per process, so a frozenset iterates in another order in each one."""
    script = tmp_path / "digest.py"
    script.write_text(
        "import datetime as dt\n"
        "from kim_hub.reporting.facts import HubFacts, RecordFact\n"
        "from kim_hub.reporting.inputs import inputs_digest\n"
        "record = RecordFact('caritas', 'P-1', 'auto', present=frozenset({'family_name', 'street', 'postcode', 'sex'}))\n"
        "facts = HubFacts((record,) * 3, (), (), (), 0, held=frozenset({'P-1', 'P-2', 'P-3', 'P-4'}))\n"
        "print(inputs_digest(facts, {'x': 1}, 'de', dt.date(2026, 12, 7)))\n"
    )
    root = Path(__file__).resolve().parent.parent
    digests = {
        subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1 and len(next(iter(digests))) == 64


def test_what_orjson_cannot_write_is_digested_all_the_same() -> None:
    """A fact holding an integer beyond 64 bits or a key that is no text takes the slower path."""
    odd = (dataclasses.replace(RECORD, district=str(2**70)),)
    assert inputs_digest(facts(odd), None, "de", DAY) != inputs_digest(facts((RECORD,)), None, "de", DAY)

    @dataclasses.dataclass(frozen=True)
    class Odd:
        counts: dict[int, int]
        big: int

    one = HubFacts(records=(Odd({1: 2}, 2**70),), deliveries=(), rejections=(), reviews=(), open_reviews=0)  # type: ignore[arg-type]
    two = HubFacts(records=(Odd({1: 3}, 2**70),), deliveries=(), rejections=(), reviews=(), open_reviews=0)  # type: ignore[arg-type]
    assert inputs_digest(one, None, "de", DAY) == inputs_digest(one, None, "de", DAY)
    assert inputs_digest(one, None, "de", DAY) != inputs_digest(two, None, "de", DAY)
