"""Twins or one person under two given names (linkage.household): a pair with the same family
name and precise birth date but given names that differ outright never links automatically —
until the installation's reviewers have found such pairs to be one person (18 decisions, none
"different"); then the pairs the rule alone held back link, and twins decided as different keep
the rule in force."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from kim_hub.hub_db.models import ReviewItem
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, MISSING
from kim_hub.linkage.compare_arrays import individual_evidence
from kim_hub.linkage.household import HouseholdDecisions, Release, household_decisions, household_pattern
from kim_hub.pipeline.review import decide_review, household_rules_of
from tests.support import Hub

FAMILIES = "Haddad Testova Rahimi Okafor Bondarenko Nasser Kovalenko Hussaini Yilmaz Mansour Petrenko Darwish".split()
# Every person has given names of their own: two persons of one postcode under one given name and
# family names one letter apart (Haddad, Haddadb) would be a pair to review of their own.
GIVEN_A = "Samira Marta Ahmad Chidi Olena Rami Iryna Farid Emre Leila Taras Huda Amal Bashir Lina Zoran Ayse Milan Nadia Omid Tamara Wafa".split()
GIVEN_B = "Noor Dina Yusuf Ifeoma Sofiia Karim Oksana Walid Deniz Rania Bohdan Salma Hiba Jamal Vera Stefan Elif Pavel Soraya Reza Galina Ines".split()
HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,consent_recipients\n"


def levels(family: int, given: int, date: int) -> np.ndarray:
    row = np.full((1, len(FIELDS)), MISSING, dtype=np.int8)
    row[0, FAMILY], row[0, GIVEN], row[0, DATE] = family, given, date
    return row


def test_the_pattern_is_family_and_precise_birth_date_shared_and_given_names_different() -> None:
    assert household_pattern(levels(4, 0, 6))[0]
    assert household_pattern(levels(1, 0, 6))[0]  # the family name with a typo
    assert household_pattern(levels(MISSING, 0, 6))[0]  # a twin's record without a family name
    assert not household_pattern(levels(4, 1, 6))[0]  # the given names agree in part: evidence already
    assert not household_pattern(levels(4, 0, 5))[0]  # a shared placeholder date is no precise date
    assert not household_pattern(levels(0, 0, 6))[0]  # another family name
    assert not household_pattern(levels(4, MISSING, 6))[0]
    twins = levels(4, 0, 6)
    assert not individual_evidence(twins)[0] and individual_evidence(twins, Release(twins=True))[0]
    assert not individual_evidence(levels(0, 0, 6), Release(twins=True))[0]


@pytest.mark.parametrize(
    ("same", "different", "ruled_out"), [(17, 0, False), (18, 0, True), (36, 1, False), (37, 1, True), (100, 6, False)]
)
def test_twins_are_ruled_out_once_the_reviewers_found_the_pattern_one_person_nearly_always(
    same: int, different: int, ruled_out: bool
) -> None:
    assert HouseholdDecisions(same, different).rules_out_twins is ruled_out


def test_only_decided_pairs_of_the_pattern_count() -> None:
    decided = np.concatenate([levels(4, 0, 6), levels(4, 0, 6), levels(4, 4, 6), levels(4, 0, 0)])
    assert household_decisions(decided, np.array([True, False, True, True])) == HouseholdDecisions(1, 1)


def pattern_pairs(hub: Hub, persons: int) -> None:
    """``persons`` people, each at caritas under one given name and at the AWO under another:
    the same family name, birth date and address (consenting to KIM, so reviewers see them).
    A home this small links with the shipped default model, which weighs the differing given
    names at a probability near 0.32; the home links automatically from 0.3, so only the twins
    rule keeps these pairs apart."""
    linkage = hub.config.linkage.model_copy(update={"auto_link_probability": 0.3, "review_probability": 0.1})
    hub.config = hub.config.model_copy(update={"linkage": linkage})
    hub.home.save_config(hub.config)
    rows = {"caritas": [], "awo": []}
    for n in range(persons):
        family = f"{FAMILIES[n % len(FAMILIES)]}{'' if n < len(FAMILIES) else chr(97 + n // len(FAMILIES))}"
        born = f"19{60 + n % 40}-{1 + n % 12:02d}-{2 + n % 26:02d}"  # never 01.01.: a placeholder is no precise date
        street = f"Teststraße {n + 1}"
        rows["caritas"].append(f"C-{n},{family},{GIVEN_A[n]},{born},F,SYR,{street},51373,active,kim")
        rows["awo"].append(f"A-{n},{family},{GIVEN_B[n]},{born},F,SYR,{street},51373,active,kim")
    for source, lines in rows.items():
        hub.drop_rows(source, f"{source}.csv", lines, header=HEADER)
    hub.sync()


def open_items(hub: Hub) -> list[int]:
    with hub.sessions() as session:
        return list(session.execute(select(ReviewItem.id).where(ReviewItem.status == "open").order_by(ReviewItem.id)).scalars())


def test_after_eighteen_same_decisions_the_pairs_the_rule_held_back_link(hub: Hub) -> None:
    pattern_pairs(hub, 22)
    waiting = open_items(hub)
    assert len(waiting) == 22  # every pair to review: twins cannot be told from one person
    for item in waiting[:17]:
        decide_review(hub.home, item, "same", "fields_agree")
    assert open_items(hub) == waiting[17:]  # 17 decisions are not enough
    decide_review(hub.home, waiting[17], "same", "fields_agree")
    assert open_items(hub) == []  # the 18th: the four still waiting link without a decision
    pseudonyms = hub.pseudonyms()
    assert all(pseudonyms[("caritas", f"C-{n}")] == pseudonyms[("awo", f"A-{n}")] for n in range(22))
    rules = household_rules_of(hub.home)  # the decided pairs' records read alone, not the whole index
    assert rules.decisions == HouseholdDecisions(18, 0) and rules.release.twins


def test_twins_decided_as_different_keep_the_rule(hub: Hub) -> None:
    pattern_pairs(hub, 22)
    waiting = open_items(hub)
    decide_review(hub.home, waiting[0], "different", "family_member")
    for item in waiting[1:19]:
        decide_review(hub.home, item, "same", "fields_agree")
    assert open_items(hub) == waiting[19:]  # 18 same beside 1 different: (18+1)/(19+2) < 0.95
    assert household_rules_of(hub.home).decisions == HouseholdDecisions(18, 1)
