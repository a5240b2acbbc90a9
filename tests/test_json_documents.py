"""The hub's JSON files are the same bytes whichever library writes them (connectors.json_documents)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.connectors import json_documents
from kim_hub.connectors.json_documents import document_bytes

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["", "\x00\x1f\x7f", "\u2028\u2029", "Ä ö ß ğ ı", '\\ " /', "😀"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.dictionaries(st.integers(0, 9), inner, max_size=2)
    ),
    max_leaves=20,
)


def _standard(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


@given(VALUES)
@settings(max_examples=400, deadline=None)
def test_the_same_bytes_as_the_standard_library(value: object) -> None:
    assert document_bytes(value) == _standard(value)


def test_a_summary_is_written_without_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the hub writes takes the fast path (so the speed-up is real), nested and empty parts included."""
    summary = {
        "kind": "summary",
        "record_id": "AWO-000123",
        "person": "P-0A1B2C3D4E5F",
        "rechtskreis": "SGB II",
        "goals": {"arbeit": "active", "sprache": "done"},
        "referrals": [],
        "consent": {"recipients": ["jobcenter", "stadt"], "valid_until": "2027-04-23", "withdrawn_at": None},
        "events": [{"kind": "moved_away", "on": "2026-02-01"}],
        "checked": True,
        "records": 2,
        "empty": {},
    }
    expected = _standard(summary)

    def refuse(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the standard library was asked")

    monkeypatch.setattr(json_documents.json, "dumps", refuse)
    assert document_bytes(summary) == expected
