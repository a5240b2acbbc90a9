"""The twins' pattern judged by the index's own households, without a decision (linkage.household).

An index whose pattern pairs (same family name, birth date and household, given names differing
outright) far outnumber what its siblings could hold in twins links them automatically; an
index with siblings beside the same pattern pairs keeps sending them to review. Through a real
sync: the model that carries the census is learnt from the home's own records (more than
``MIN_RECORDS_TO_ESTIMATE`` of them).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy import select

from kim_hub.hub_db.models import ModelVersion, ReviewItem
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, MISSING
from kim_hub.linkage.household import HouseholdCensus, household_census
from kim_hub.linkage.model import MatchModel
from tests.support import Hub

ADDRESS, PLACE = FIELDS.index("address"), FIELDS.index("birth_place")
HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,consent_recipients\n"
GIVEN_NAMES = "Samira Marta Ahmad Chidi Olena Rami Iryna Farid Emre Leila Taras Huda Amir Tarek Elif Hamid".split()
OTHER_NAMES = "Noor Yusuf Ifeoma Bohdan Walid Deniz Oksana Zeynep Salma Sofiia".split()  # none like any of the above
PERSONS = 560  # two records each: past MIN_RECORDS_TO_ESTIMATE, so the home learns its own model
PATTERN = 150  # persons whose second record carries another given name


def levels(family: int, given: int, date: int, address: int = MISSING, place: int = MISSING) -> np.ndarray:
    row = np.full((1, len(FIELDS)), MISSING, dtype=np.int8)
    row[0, FAMILY], row[0, GIVEN], row[0, DATE], row[0, ADDRESS], row[0, PLACE] = family, given, date, address, place
    return row


def test_the_census_counts_pattern_pairs_and_siblings_of_one_household() -> None:
    counted = np.concatenate(
        [
            levels(4, 0, 6, address=3),  # the twins' pattern at one address
            levels(3, 0, 6, place=2),  # … or of one birth place
            levels(4, 0, 0, address=2),  # siblings: born in another year (same postcode)
            levels(4, 0, 1, address=3),  # … or the same year, another day
            levels(4, 0, 6),  # no household shared: neither
            levels(4, 0, 6, address=1),  # a postcode one typo apart is no household: neither
            levels(4, 4, 6, address=3),  # given names agree: neither
            levels(4, 0, MISSING, address=3),  # no birth date to tell: neither
            levels(4, 0, 5, address=3),  # a shared placeholder date: neither
        ]
    )
    assert household_census(counted) == HouseholdCensus(twins_pattern=2, siblings=2)


@pytest.mark.parametrize(
    ("twins_pattern", "siblings", "ruled_out"),
    [(18, 0, False), (19, 0, True), (30, 1, True), (100, 30, True), (100, 50, False), (20, 1000, False), (0, 0, False)],
)
def test_the_pattern_is_one_person_when_siblings_cannot_hold_its_twins(
    twins_pattern: int, siblings: int, ruled_out: bool
) -> None:
    assert HouseholdCensus(twins_pattern, siblings).rules_out_twins is ruled_out


def test_the_census_travels_with_the_stored_model() -> None:
    from kim_hub.linkage.default_model import default_model

    model = MatchModel.from_dict({**default_model().to_dict(), "household_census": {"twins_pattern": 40, "siblings": 3}})
    assert MatchModel.from_dict(model.to_dict()).household_census == HouseholdCensus(40, 3)
    assert not MatchModel.from_dict(
        {k: v for k, v in model.to_dict().items() if k != "household_census"}
    ).household_census.rules_out_twins


def _family(rng: random.Random) -> str:
    """A made-up family name: rare enough that every family-name block stays small."""
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).capitalize() + "ov"


def deliver_households(hub: Hub, siblings: int) -> None:
    """PERSONS persons with a record at caritas and one at awo, each at its own address; the
    first PATTERN of them under another given name at awo; then ``siblings`` more persons at
    caritas only, each a sibling of one of the first: same family name and address, born in
    another year and on another day, another given name."""
    rng = random.Random(7)
    rows: dict[str, list[str]] = {"caritas": [], "awo": []}
    people = []
    for n in range(PERSONS):
        family, given = _family(rng), rng.choice(GIVEN_NAMES)
        born = f"{rng.randint(1960, 2005)}-{rng.randint(2, 12):02d}-{rng.randint(2, 28):02d}"
        street = f"Teststraße {n + 1},{rng.randint(40000, 53999)}"  # street and postcode
        sex, nationality = rng.choice("MF"), rng.choice(("SYR", "AFG", "UKR", "IRQ", "TUR"))
        people.append((family, given, born, street, nationality))
        other_given = rng.choice(OTHER_NAMES) if n < PATTERN else given
        rows["caritas"].append(f"C-{n},{family},{given},{born},{sex},{nationality},{street},active,kim")
        rows["awo"].append(f"A-{n},{family},{other_given},{born},{sex},{nationality},{street},active,kim")
    for k in range(siblings):
        family, given, born, street, nationality = people[PATTERN + k]
        sibling_born = f"{int(born[:4]) + rng.choice((-4, -3, -2, 2, 3, 4))}-{rng.randint(2, 12):02d}-{rng.randint(2, 28):02d}"
        sibling_given = rng.choice(OTHER_NAMES)
        sex = rng.choice("MF")
        rows["caritas"].append(f"S-{k},{family},{sibling_given},{sibling_born},{sex},{nationality},{street},active,kim")
    for source, lines in rows.items():
        hub.drop_rows(source, f"{source}.csv", lines, header=HEADER)
    hub.sync()


def _linked_pattern_pairs(hub: Hub) -> int:
    pseudonyms = hub.pseudonyms()
    return sum(pseudonyms[("caritas", f"C-{n}")] == pseudonyms[("awo", f"A-{n}")] for n in range(PATTERN))


def _census(hub: Hub) -> HouseholdCensus:
    with hub.sessions() as session:
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one()
    return MatchModel.from_dict(stored.parameters).household_census


def test_an_index_without_siblings_to_hold_its_pattern_pairs_links_them_without_a_decision(hub: Hub) -> None:
    deliver_households(hub, siblings=0)
    assert _census(hub).rules_out_twins
    assert _linked_pattern_pairs(hub) >= PATTERN - 5
    with hub.sessions() as session:
        assert session.execute(select(ReviewItem).where(ReviewItem.status == "open")).first() is None


def test_an_index_whose_siblings_could_hold_them_as_twins_keeps_them_for_review(hub: Hub) -> None:
    deliver_households(hub, siblings=120)
    census = _census(hub)
    assert census.siblings > 0 and not census.rules_out_twins
    assert _linked_pattern_pairs(hub) == 0
    with hub.sessions() as session:
        assert len(session.execute(select(ReviewItem.id).where(ReviewItem.status == "open")).all()) >= 0.8 * PATTERN


def _latest_model(hub: Hub) -> MatchModel:
    with hub.sessions() as session:
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one()
    return MatchModel.from_dict(stored.parameters)


def test_pairs_decided_same_are_labelled_matches_when_the_model_is_learnt_again(hub: Hub) -> None:
    from kim_hub.hub_db.master_index import reestimate
    from kim_hub.pipeline.review import decide_review

    # the labels alone: learning the name pairs the decisions show (tests/test_learnt_names_index.py)
    # would make the later items' pairs one name shared and link them without a decision
    linkage = hub.config.linkage.model_copy(update={"name_equivalence_persons": 0})
    hub.config = hub.config.model_copy(update={"linkage": linkage})
    hub.home.save_config(hub.config)
    deliver_households(hub, siblings=120)
    before = _latest_model(hub)
    assert before.reviewed_matches == 0
    waiting = list(_open_items(hub))[:60]
    for item in waiting:  # the pattern's pairs, one person under two given names
        decide_review(hub.home, item, "same", "fields_agree")
    with hub.sessions() as session:
        reestimate(session)
        session.commit()
    after = _latest_model(hub)
    assert after.reviewed_matches == len(waiting) == 60
    # every decided pair's given names differ outright: m of that level rises with the labels
    assert after.m["given_names"][0] > before.m["given_names"][0]


def _open_items(hub: Hub) -> list[int]:
    with hub.sessions() as session:
        return list(session.execute(select(ReviewItem.id).where(ReviewItem.status == "open").order_by(ReviewItem.id)).scalars())
