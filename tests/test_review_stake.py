"""The review queue in the order of what a decision would change (``decision_stake``)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from kim_hub.hub_db import review
from kim_hub.hub_db.master_index import decision_stake
from kim_hub.hub_db.models import Link, ReviewItem, SourceRecord
from tests.support import Hub

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,consent_recipients\n"
FAMILIES = "Haddad Testova Rahimi Okafor Bondarenko Nasser".split()
GIVEN_A = "Samira Marta Ahmad Chidi Olena Rami".split()  # at caritas and the Diakonie
GIVEN_B = "Noor Dina Yusuf Ifeoma Sofiia Karim".split()  # at the AWO: the same persons under other given names


def test_a_decision_joining_more_records_weighs_more_and_so_does_a_likelier_one() -> None:
    assert decision_stake(0.5, 5) > decision_stake(0.5, 2)
    assert decision_stake(0.8, 2) > decision_stake(0.5, 2)
    assert decision_stake(0.4, 5) > decision_stake(0.9, 2)  # a person at four bodies before two lone records


def test_the_queue_lists_by_stake_then_probability_page_by_page(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"C-{n},Testova,Marta,1980-03-{n + 2:02d},F,UKR,Teststraße {n + 1},51373,active,kim" for n in range(4)]
    hub.drop_rows("caritas", "caritas.csv", rows, header=HEADER)
    hub.sync()
    with hub.sessions() as session, session.begin():
        for item in session.execute(select(ReviewItem)).scalars():
            session.delete(item)
        ids = list(session.execute(select(SourceRecord.id).order_by(SourceRecord.id)).scalars())
        pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        stakes_scores = [(1.0, 0.5), (1.8, 0.6), (1.0, 0.9), (0.8, 0.4), (1.8, 0.6), (1.0, 0.5)]
        for (a, b), (stake, score) in zip(pairs, stakes_scores, strict=True):
            session.add(ReviewItem(record_a=a, record_b=b, score=score, stake=stake, evidence={}))
    monkeypatch.setattr(review, "LIST_PAGE", 2)  # pages of two: the order holds across pages
    with hub.sessions() as session:
        listed = review.list_items(session, limit=None)
        again = review.list_items(session, limit=5)
    order = [(entry.stake, entry.score, entry.id) for entry in listed]
    assert order == sorted(order, key=lambda key: (-key[0], -key[1], key[2]))
    assert len({entry.id for entry in listed}) == 6
    assert [entry.id for entry in again] == [entry.id for entry in listed][:5]


def test_a_link_run_weighs_each_item_by_the_records_of_both_sides(hub: Hub) -> None:
    """Six persons under one given name at caritas and another at the AWO (the twins' pattern:
    six items, as in tests/test_household.py); three of them also at the Diakonie under caritas's
    given name, so that their side of the item holds two records. In an index this small a name
    held three times weighs much less than one held twice, so review starts lower than usual."""
    linkage = hub.config.linkage.model_copy(update={"auto_link_probability": 0.3, "review_probability": 0.01})
    hub.config = hub.config.model_copy(update={"linkage": linkage})
    hub.home.save_config(hub.config)
    rows: dict[str, list[str]] = {"caritas": [], "awo": [], "diakonie": []}
    for n in range(6):
        born, street = f"19{60 + n}-{1 + n:02d}-{2 + n:02d}", f"Teststraße {n + 1}"
        rows["caritas"].append(f"C-{n},{FAMILIES[n]},{GIVEN_A[n]},{born},F,SYR,{street},51373,active,kim")
        rows["awo"].append(f"A-{n},{FAMILIES[n]},{GIVEN_B[n]},{born},F,SYR,{street},51373,active,kim")
        if n < 3:
            rows["diakonie"].append(f"D-{n},{FAMILIES[n]},{GIVEN_A[n]},{born},F,SYR,{street},51373,active,kim")
    for source, lines in rows.items():
        hub.drop_rows(source, f"{source}.csv", lines, header=HEADER)
    hub.sync()
    with hub.sessions() as session:
        person_of = dict(session.execute(select(Link.record_id, Link.person_id)).all())
        size = Counter(person_of.values())
        items = session.execute(select(ReviewItem).where(ReviewItem.status == "open")).scalars().all()
        assert len(items) == 6
        for item in items:
            records = size[person_of[item.record_a]] + size[person_of[item.record_b]]
            assert item.stake == pytest.approx(decision_stake(item.score, records), abs=1e-3)
        assert sorted(size[person_of[i.record_a]] + size[person_of[i.record_b]] for i in items) == [2, 2, 2, 3, 3, 3]
        listed = review.list_items(session)
    assert [entry.stake for entry in listed] == sorted((entry.stake for entry in listed), reverse=True)
