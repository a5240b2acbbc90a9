"""New persons' ids come back in the order given, whether read back by scan or by pseudonym."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kim_hub.hub_db import person_assignment
from kim_hub.hub_db.models import Person
from kim_hub.hub_db.person_assignment import _insert_persons, new_pseudonym, new_pseudonyms
from tests.support import Hub


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
