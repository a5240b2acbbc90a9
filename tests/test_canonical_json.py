"""The canonical text a content hash is taken of stays json's to the byte (linkage.canonical_json).

A content hash that changed with the writer would make every stored row look changed on its next
delivery; so the fast writer is held to ``json.dumps(sort_keys=True, separators=(",", ":"))``
on any value a mapped row can hold, on every character, and on what orjson refuses.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.linkage.canonical_json import canonical_json
from kim_hub.mappings.case_summary import CaseSummary


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(json_values)
def test_any_value_without_floats_is_written_as_json_writes_it(value: Any) -> None:
    assert canonical_json(value) == _json(value)


def test_every_character_is_escaped_or_kept_as_json_does() -> None:
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    value = {"text": every, every[:300]: [every[-50:], "plain"], "ascii": "".join(map(chr, range(0x80)))}
    assert canonical_json(value) == _json(value)


def test_what_orjson_refuses_is_written_by_json() -> None:
    for refused in ({"lone": "\ud800 surrogate"}, {"big": [2**64, -(2**63) - 1]}, {2: "a key that is no text"}):
        assert canonical_json(refused) == _json(refused)


def _types(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
        return found.union(*(_types(part) for part in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_types(part) for part in schema))
    return set()


def test_a_mapped_row_holds_no_floating_point_number() -> None:
    # orjson and json write some floats' digits differently (1e+16 / 1e16): a float field in the
    # case summary would need canonical_json to write floats through json
    assert "number" not in _types(CaseSummary.model_json_schema(mode="serialization"))
