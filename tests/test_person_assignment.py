"""New persons' ids come back in the order given, whether read back by scan or by pseudonym; a
first run's links get their person index made after they are written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, inspect, select

from kim_hub.hub_db import person_assignment
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.hub_db.person_assignment import _insert_persons, new_pseudonym, new_pseudonyms
from kim_hub.synth import generate
from tests.support import Hub, copy_deliveries


@pytest.mark.parametrize("in_chunk", [1000, 2])  # 2: 150 persons exceed 50 chunks, read back by one scan
def test_new_persons_get_their_own_ids_in_order(hub: Hub, monkeypatch: pytest.MonkeyPatch, in_chunk: int) -> None:
    monkeypatch.setattr(person_assignment, "IN_CHUNK", in_chunk)
    with hub.sessions() as session, session.begin():
        earlier = _insert_persons(session, [new_pseudonym() for _ in range(3)])
        fresh = [new_pseudonym() for _ in range(150)]
        ids = _insert_persons(session, fresh)
        stored = dict(session.execute(select(Person.id, Person.pseudonym)).all())
    assert len(set(ids)) == len(fresh) and not set(ids) & set(earlier)
    assert [stored[i] for i in ids] == fresh


def test_pseudonyms_made_together_look_like_those_made_one_by_one() -> None:
    made = new_pseudonyms(2000)
    alone = new_pseudonym()
    assert len(made) == len(set(made)) == 2000
    assert all(re.fullmatch(r"P-[0-9A-F]{12}", p) for p in [*made, alone])
    assert len({p[2] for p in made}) == 16 and len({p[-1] for p in made}) == 16  # every digit, first and last
    assert new_pseudonyms(0) == []


def test_a_first_runs_links_get_their_person_index_made_after_them(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(person_assignment, "FIRST_LINKS_INDEXED_AFTER", 10)
    _deliver(hub, tmp_path / "first", seed=2)
    with _statements() as first_run:
        hub.link()
    assert _index_statements(first_run) == ["DROP", "CREATE"], "an empty table: the index is made after the links"
    _assert_every_record_linked_and_indexed(hub)
    _deliver(hub, tmp_path / "second", seed=3)
    with _statements() as second_run:
        hub.link()
    assert _index_statements(second_run) == [], "links there already: written into the index as it stands"
    _assert_every_record_linked_and_indexed(hub)


def _deliver(hub: Hub, drops: Path, seed: int) -> None:
    generate(drops, 15, seed)
    copy_deliveries(sorted(path for path in (drops / "inbox").rglob("*") if path.is_file()), hub.path)
    hub.ingest_all()


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _index_statements(statements: list[str]) -> list[str]:
    return [s.split()[0].upper() for s in statements if "ix_links_person_id" in s and s.split()[0].upper() in ("DROP", "CREATE")]


def _assert_every_record_linked_and_indexed(hub: Hub) -> None:
    with hub.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Link))
            == session.scalar(select(func.count()).select_from(SourceRecord))
            > 10
        )
        indexes = {index["name"]: index["column_names"] for index in inspect(session.connection()).get_indexes("links")}
    assert indexes.get("ix_links_person_id") == ["person_id"]
