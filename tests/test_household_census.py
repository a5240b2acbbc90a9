"""Household evidence alone judged by the index's own households, without a decision (linkage.household).

An index whose pattern pairs (same family name, birth date and household, given names differing
outright) far outnumber what its siblings could hold in twins links them automatically; an
index with siblings beside the same pattern pairs keeps sending them to review. So too a family
name in one household without a given name agreeing (one person per family and household here,
or not), and both names replaced at one address under the same birth date (where names are
replaced and chance cannot explain it). Through a real sync: the model that carries the census is
learnt from the home's own records (more than ``MIN_RECORDS_TO_ESTIMATE`` of them).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy import select

from kim_hub.hub_db.models import ModelVersion, ReviewItem
from kim_hub.hub_db.online import OnlineIndex
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, MISSING
from kim_hub.linkage.compare_arrays import individual_evidence
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.estimate import sample_pairs_sharing
from kim_hub.linkage.household import HouseholdCensus, Release, household_census, renamed_counts
from kim_hub.linkage.model import MatchModel
from kim_hub.mappings.case_summary import Identity, PersonName
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub
from tests.support.cli import run_cli
from tests.support.web import PASSWORD, main_of, signed_in

ADDRESS, PLACE = FIELDS.index("address"), FIELDS.index("birth_place")
HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,consent_recipients\n"
GIVEN_NAMES = "Samira Marta Ahmad Chidi Olena Rami Iryna Farid Emre Leila Taras Huda Amir Tarek Elif Hamid".split()
OTHER_NAMES = "Noor Yusuf Ifeoma Bohdan Walid Deniz Oksana Zeynep Salma Sofiia".split()  # none like any of the above
PERSONS = 560  # two records each: past MIN_RECORDS_TO_ESTIMATE, so the home learns its own model
PATTERN = 150  # persons whose second record carries another given name
FAMILY_ONLY = range(300, 340)  # persons whose second record has neither given name nor birth date
RENAMED = range(340, 370)  # persons whose second record carries other given and family names


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
    # household pairs: all of one household with given names and birth dates known
    assert household_census(counted) == HouseholdCensus(twins_pattern=2, siblings=2, household_pairs=6)


def test_the_renamed_pattern_is_counted_among_pairs_at_one_address() -> None:
    counted = np.concatenate(
        [
            levels(0, 0, 6, address=3),  # both names differ, the same day, one address
            levels(0, 0, 0, address=3),  # … born in another year
            levels(0, 0, 1, address=3),  # … the same year, another day
            levels(0, 0, 2, address=3),  # one date imprecise: another day or not, unknown
            levels(0, 0, 5, address=3),  # a shared placeholder: neither
            levels(0, 0, MISSING, address=3),  # no date: neither
            levels(1, 0, 0, address=3),  # family names alike: not the pattern
            levels(0, 0, 6, address=2),  # the postcode alone: not one address
        ]
    )
    assert renamed_counts(counted) == (1, 2)
    assert household_census(levels(4, 4, 6), at_one_address=counted).renamed_same_day == 1


@pytest.mark.parametrize(
    ("household_pairs", "siblings", "ruled_out"),
    [(18, 0, False), (19, 0, True), (2712, 39, True), (2322, 53, True), (11801, 9593, False), (28024, 4101, False)],
)
def test_a_family_in_one_household_is_one_person_when_siblings_are_few_among_its_pairs(
    household_pairs: int, siblings: int, ruled_out: bool
) -> None:
    assert HouseholdCensus(siblings=siblings, household_pairs=household_pairs).rules_out_other_members is ruled_out


@pytest.mark.parametrize(
    ("twins_pattern", "same_day", "other_day", "ruled_out"),
    [
        (40, 17, 2, True),  # names are replaced here, and 17 pairs beside two other-day co-residents
        (40, 17, 400, False),  # co-residents enough to hold them by chance (400/365 ≈ 1.1 of 17)
        (40, 0, 0, False),  # nothing to judge
        (10, 17, 2, False),  # the twins' pattern not shown to be one person: names are not replaced here
    ],
)
def test_renamed_pairs_are_one_person_where_names_are_replaced_and_chance_cannot_explain_them(
    twins_pattern: int, same_day: int, other_day: int, ruled_out: bool
) -> None:
    census = HouseholdCensus(twins_pattern, 0, 0, same_day, other_day)
    assert census.rules_out_strangers is ruled_out


def test_a_released_pattern_counts_as_individual_evidence_and_nothing_else_does() -> None:
    family_only = levels(4, MISSING, MISSING, address=3)
    renamed = levels(0, 0, 6, address=3)
    assert not individual_evidence(family_only)[0] and not individual_evidence(renamed)[0]
    assert individual_evidence(family_only, Release(family_household=True))[0]
    assert not individual_evidence(family_only, Release(twins=True, renamed=True))[0]
    assert individual_evidence(renamed, Release(renamed=True))[0]
    assert not individual_evidence(levels(0, 0, 6, address=2), Release(renamed=True))[0]  # the postcode alone
    assert not individual_evidence(levels(0, MISSING, MISSING, address=3), Release(family_household=True))[0]
    census = HouseholdCensus(40, 0, 100, 17, 2)
    assert census.release() == Release(twins=True, family_household=True, renamed=True)
    assert HouseholdCensus().release(decided_twins=True) == Release(twins=True)


def test_pairs_sharing_a_key_are_all_taken_when_few_and_drawn_evenly_when_many() -> None:
    keys = np.array([5, 5, 5, 1, 1, 9, 7, 7, 7, 7])
    a, b = sample_pairs_sharing(keys, np.arange(10), 10, 100, seed=0)
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2), (1, 2), (3, 4), (6, 7), (6, 8), (6, 9), (7, 8), (7, 9), (8, 9)]
    # a shelter of 400 residents beside 2,000 households of two: 79,800 pairs against 2,000
    keys = np.concatenate([np.zeros(400, np.int64), np.repeat(np.arange(1, 2001), 2)])
    a, b = sample_pairs_sharing(keys, np.arange(len(keys)), len(keys), 20_000, seed=1)
    assert len(a) == 20_000 and bool(np.all(keys[a] == keys[b])) and bool(np.all(a != b))
    in_shelter = np.count_nonzero(keys[a] == 0) / len(a)
    assert abs(in_shelter - 79_800 / 81_800) < 0.01


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


def deliver_households(hub: Hub, siblings: int) -> list[tuple[str, str, str, str, str, str]]:
    """PERSONS persons with a record at caritas and one at awo, each at its own address; at awo
    the first PATTERN of them under another given name, those of FAMILY_ONLY without given name
    and birth date, those of RENAMED under other given and family names; then ``siblings`` more
    persons at caritas only, each a sibling of one of the first: same family name and address,
    born in another year and on another day, another given name. Returns every person's (family
    name, given name, birth date, street and postcode, nationality, sex)."""
    rng = random.Random(7)
    renamed = [_family(random.Random(n)) for n in RENAMED]  # another family name for each
    rows: dict[str, list[str]] = {"caritas": [], "awo": []}
    people = []
    for n in range(PERSONS):
        family, given = _family(rng), rng.choice(GIVEN_NAMES)
        born = f"{rng.randint(1960, 2005)}-{rng.randint(2, 12):02d}-{rng.randint(2, 28):02d}"
        street = f"Teststraße {n + 1},{rng.randint(40000, 53999)}"  # street and postcode
        sex, nationality = rng.choice("MF"), rng.choice(("SYR", "AFG", "UKR", "IRQ", "TUR"))
        people.append((family, given, born, street, nationality, sex))
        other_given = rng.choice(OTHER_NAMES) if n < PATTERN else given
        rows["caritas"].append(f"C-{n},{family},{given},{born},{sex},{nationality},{street},active,kim")
        if n in FAMILY_ONLY:
            rows["awo"].append(f"A-{n},{family},,,{sex},{nationality},{street},active,kim")
        elif n in RENAMED:
            rows["awo"].append(
                f"A-{n},{renamed.pop()},{OTHER_NAMES[n % len(OTHER_NAMES)]},{born},{sex},{nationality},{street},active,kim"
            )
        else:
            rows["awo"].append(f"A-{n},{family},{other_given},{born},{sex},{nationality},{street},active,kim")
    for k in range(siblings):
        family, given, born, street, nationality, _sex = people[PATTERN + k]
        sibling_born = f"{int(born[:4]) + rng.choice((-4, -3, -2, 2, 3, 4))}-{rng.randint(2, 12):02d}-{rng.randint(2, 28):02d}"
        sibling_given = rng.choice(OTHER_NAMES)
        sex = rng.choice("MF")
        rows["caritas"].append(f"S-{k},{family},{sibling_given},{sibling_born},{sex},{nationality},{street},active,kim")
    for source, lines in rows.items():
        hub.drop_rows(source, f"{source}.csv", lines, header=HEADER)
    hub.sync()
    return people


@pytest.mark.parametrize(("siblings", "answer"), [(0, "auto"), (120, "review")])
def test_the_online_index_lets_go_what_the_batch_run_lets_go(hub: Hub, siblings: int, answer: str) -> None:
    """A third record of a family-only person, asked online: one person where the census let the
    pattern go, a question for review where siblings keep the rule."""
    people = deliver_households(hub, siblings)
    n = FAMILY_ONLY[0]
    family, _given, _born, address, nationality, sex = people[n]
    street, postcode = address.split(",")
    asked = encode_identity(
        Identity(name=PersonName(family_name=family), sex=sex, nationalities=(nationality,), street=street, postcode=postcode),
        hub.keys,
    )
    with hub.sessions() as session:
        found = OnlineIndex(session).link(asked, source="diakonie")
    assert found.status == answer
    assert found.pseudonym == hub.pseudonyms()[("caritas", f"C-{n}")]


def _linked_pattern_pairs(hub: Hub, persons: range = range(PATTERN)) -> int:
    pseudonyms = hub.pseudonyms()
    return sum(pseudonyms[("caritas", f"C-{n}")] == pseudonyms[("awo", f"A-{n}")] for n in persons)


def _census(hub: Hub) -> HouseholdCensus:
    with hub.sessions() as session:
        stored = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one()
    return MatchModel.from_dict(stored.parameters).household_census


def test_an_index_without_siblings_to_hold_its_pattern_pairs_links_them_without_a_decision(hub: Hub) -> None:
    deliver_households(hub, siblings=0)
    census = _census(hub)
    assert census.rules_out_twins and census.rules_out_other_members and census.rules_out_strangers
    assert _linked_pattern_pairs(hub) >= PATTERN - 5
    assert _linked_pattern_pairs(hub, FAMILY_ONLY) >= len(FAMILY_ONLY) - 2
    assert _linked_pattern_pairs(hub, RENAMED) >= len(RENAMED) - 2
    shown = run_cli("review", "rules", home=hub.path).stdout
    assert shown.count("links when the weight says so") == 3 and "held for review" not in shown
    for name, role in (("anna", "reviewer"), ("cora", "coordinator"), ("aron", "auditor")):
        add_user(hub.home, name, role, PASSWORD)
        page = main_of(signed_in(hub, name).get("/linkage-rules").text)
        assert page.count("verknüpft, wenn das Gewicht es sagt") == 3 and "zur Prüfung zurückgehalten" not in page
    assert f"{census.siblings} Geschwisterpaare unter {census.household_pairs} Haushaltspaaren" in page
    with hub.sessions() as session:
        assert session.execute(select(ReviewItem).where(ReviewItem.status == "open")).first() is None


def test_an_installation_that_switched_the_census_off_keeps_every_rule(hub: Hub) -> None:
    """[linkage] household_census = false: the same households as above, counted as before, but
    nothing links on household evidence alone; the reviewers' decisions are all that can."""
    linkage = hub.config.linkage.model_copy(update={"household_census": False})
    hub.config = hub.config.model_copy(update={"linkage": linkage})
    hub.home.save_config(hub.config)
    assert "household_census = false" in (hub.path / "hub.toml").read_text(encoding="utf-8")
    deliver_households(hub, siblings=0)
    assert _census(hub).rules_out_twins  # counted, not used
    assert _linked_pattern_pairs(hub) == _linked_pattern_pairs(hub, FAMILY_ONLY) == _linked_pattern_pairs(hub, RENAMED) == 0
    shown = run_cli("review", "rules", home=hub.path).stdout
    assert shown.count("held for review") == 3 and "household_census = false" in shown
    add_user(hub.home, "aron", "auditor", PASSWORD)
    page = main_of(signed_in(hub, "aron").get("/linkage-rules", params={"lang": "en"}).text)
    assert page.count("held for review") == 3 and "household_census = false" in page


def test_an_index_whose_siblings_could_hold_them_as_twins_keeps_them_for_review(hub: Hub) -> None:
    deliver_households(hub, siblings=120)
    census = _census(hub)
    assert census.siblings > 0 and not census.rules_out_twins
    assert not census.rules_out_other_members and not census.rules_out_strangers
    assert _linked_pattern_pairs(hub) == _linked_pattern_pairs(hub, FAMILY_ONLY) == _linked_pattern_pairs(hub, RENAMED) == 0
    shown = run_cli("review", "rules", home=hub.path).stdout
    assert (
        shown.count("held for review") == 3 and f"{census.siblings} siblings in {census.household_pairs} household pairs" in shown
    )
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
    waiting = list(_open_items(hub))[:30]
    for item in waiting:  # the pattern's pairs, one person under two given names
        decide_review(hub.home, item, "same", "fields_agree")
    with hub.sessions() as session:
        reestimate(session)
        session.commit()
    after = _latest_model(hub)
    assert after.reviewed_matches == len(waiting) == 30
    # every decided pair's given names differ outright: m of that level rises with the labels
    assert after.m["given_names"][0] > before.m["given_names"][0]


def _open_items(hub: Hub) -> list[int]:
    with hub.sessions() as session:
        return list(session.execute(select(ReviewItem.id).where(ReviewItem.status == "open").order_by(ReviewItem.id)).scalars())
