"""The database's JSON columns read back with orjson (``hub_db.json_columns``): the same values as
the standard library's parser for anything json writes, also what orjson itself refuses (NaN,
infinities, integers beyond 64 bits), as text or as bytes (PostgreSQL's driver hands bytes)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from kim_hub.hub_db.database import make_engine
from kim_hub.hub_db.json_columns import read_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def same(a: object, b: object) -> bool:
    """Equal values, NaN equal to NaN, and of the same types (1 is not 1.0)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    return a == b


@settings(max_examples=500)
@given(JSON_VALUES)
def test_what_json_writes_reads_back_as_json_reads_it(value: object) -> None:
    text = json.dumps(value)
    assert same(read_json(text), json.loads(text))
    assert same(read_json(text.encode("utf-8")), json.loads(text))


def test_the_texts_orjson_refuses_are_read_by_json() -> None:
    for text in ("NaN", '{"w": Infinity}', "[-Infinity]", str(2**70)):
        assert same(read_json(text), json.loads(text))


def test_an_engines_json_column_reads_back_through_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("data", JSON))
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    table.metadata.create_all(engine)
    stored = {"case": {"goals": {"arbeit": "active"}, "updated_at": "2026-03-02"}, "weight": float("nan"), "big": 2**70}
    with engine.begin() as connection:
        connection.execute(insert(table).values(data=stored))
        read = connection.execute(select(table.c.data)).scalar_one()
    assert same(read, stored)
    assert engine.dialect._json_deserializer is read_json  # type: ignore[attr-defined]
