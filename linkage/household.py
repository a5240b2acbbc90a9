"""Twins or one person under two given names: what an installation's reviewers have taught it.

Two records with the same family name, the same precise birth date and given names that do not
agree at all look like twins — the one false match DOMAIN.md calls hardest, because everything
but the given name is shared by the household. So such a pair never links automatically
(``individual_evidence``): it goes to review.

Some installations hold many such pairs that are *one* person: a system that replaces or loses
given names at entry, a register that keeps a call name beside the passport's, a public benchmark
generated that way (FEBRL). Twins cannot explain them: even with the highest twin birth rates
(about 4 % of deliveries in parts of West Africa) they are a small share of the pairs a
population shows. Which of the two an installation sees cannot be read off the data without
labels — it is what its reviewers find when they decide these pairs. So the hub counts their
decisions on pairs of this pattern and, once they show the pattern is almost always one person,
lets further pairs of it link automatically when the model's weight says so (the weight still
decides; the rule only stops vetoing). Twins decided as different keep the rule in force.

The bar: the Laplace estimate of the share found to be one person, (same + 1) / (decided + 2),
at least ``SAME_SHARE`` — 18 decisions all "same", 37 with one "different". An installation
whose reviewers keep finding twins never gets there.

The installation's own records can show it too, without a decision (``HouseholdCensus``). Twins
are siblings born the same day, and siblings living together are visible in the index: same
family name, same household (the address in part, or the birth place), other given names, born
in another year or on another day. Twins are at most ``TWINS_AMONG_SIBLINGS`` of such sibling
pairs, so the twins' pattern can hold at most that many twins per sibling pair the index shows; if
it holds far more, the rest are one person. Counted in the model's sample: FEBRL3 352 pattern
pairs beside 37 sibling pairs (one-person share 0.987: the rule goes), FEBRL4 206 beside 52
(0.97); the held-out samples 23 beside 9,739 and 8 beside 1,595 (0: it stays), and a generated
population whose siblings are 10 % twins, with call names the list does not know, 1,348 beside
4,141 (0.69: it stays). The same bar decides: the estimated share of one person among the pattern pairs,
1 - (TWINS_AMONG_SIBLINGS * siblings + 1) / (pattern pairs + 1), at least ``SAME_SHARE`` (the
+1 a phantom twin pair, so that a handful of pattern pairs and no siblings decide nothing).
It is counted when the model is learnt (``linkage.estimate``), on the same sample of pairs that
share a family name as the household's u, and kept with the model's version.

Two more patterns of household evidence alone are held back the same way, and let go on the same
kind of count (``Release``):

* **a family name and a household shared, no given name agreeing** (one record lacks its given
  name or its birth date, or both differ): a sibling looks the same. The census counts the pairs
  of one family name in one household whose given names and birth dates are known: the siblings
  among them (given names differing outright, born on another day) and the twins they could hold
  are other people; if those are at most 1 - ``SAME_SHARE`` of all, a family's records in one
  household are one person here, and the weight decides (FEBRL3 39 siblings in 2,712 household
  pairs: the rule goes; FEBRL4 52 in 2,322; the held-out sample 9,587 in 11,801: it stays). The
  household's u, learnt on the premise that such pairs are different people, then does not apply.
* **both names differing under the same precise birth date at one address** (the same street and
  number, the postcode not differing): one person whose names were both replaced, or strangers
  living together born the same day. The calendar bounds the strangers: of co-residents with other
  names born on another day, at most one in ``DAYS_IN_YEAR`` would share the day even if all were
  born the same year. So where the census rules out twins (names are replaced here) and the
  pattern's pairs far exceed what the co-residents' count allows, the weight decides (FEBRL3 39
  pattern pairs beside 0 other-day co-residents, FEBRL4 17 beside 1; the held-out sample 1 beside
  1,017, and a shelter of a few hundred residents holds tens of thousands of such pairs). The
  co-residents are drawn evenly over every address's pairs (``linkage.estimate.address_levels``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS, MISSING

SAME_SHARE = 0.95
SAME_DATE = len(LEVELS["birth_date"]) - 1  # "same": precise and equal, not a shared placeholder
OTHER_DAY = 1  # birth-date levels up to "same year, day/month differ": born on another day
_IMPRECISE = LEVELS["birth_date"].index("same year, one date imprecise")  # another day or not: unknown
_PLACEHOLDER = LEVELS["birth_date"].index("same placeholder date")
# Twins among pairs of siblings living together, at most: twin births are at most about 4 % of
# deliveries (the highest national rates, in West Africa), so in two-child families at most ~8 %
# of sibling pairs are twins, in larger ones fewer.
TWINS_AMONG_SIBLINGS = 0.1
DAYS_IN_YEAR = 365  # two people born independently share the exact date at most once in so many pairs
_ADDRESS, _PLACE = FIELDS.index("address"), FIELDS.index("birth_place")
_SAME_PLACE = len(LEVELS["birth_place"]) - 1
_ADDRESS_IN_PART = LEVELS["address"].index("same postcode, or same street and number")  # a postcode a typo apart is no household
_SAME_ADDRESS = LEVELS["address"].index("same street and number")


def household_pattern(levels: np.ndarray) -> np.ndarray:
    """Per pair (a row of a levels array): family name agrees (any level) or one record lacks
    it, the precise birth date is the same, and the given names differ outright — the twins'
    pattern (a twin's record without a family name looks the same)."""
    family = (levels[:, FAMILY] >= 1) | (levels[:, FAMILY] == MISSING)
    found: np.ndarray = (levels[:, GIVEN] == 0) & family & (levels[:, DATE] == SAME_DATE)
    return found


def _one_household(levels: np.ndarray) -> np.ndarray:
    """Per pair: the address shared at least in part, or the same birth place."""
    shared: np.ndarray = (levels[:, _ADDRESS] >= _ADDRESS_IN_PART) | (levels[:, _PLACE] == _SAME_PLACE)
    return shared


def family_household_pattern(levels: np.ndarray) -> np.ndarray:
    """Per pair: the family name agrees (any level) in one household — what a sibling shares."""
    found: np.ndarray = (levels[:, FAMILY] >= 1) & _one_household(levels)
    return found


def renamed_pattern(levels: np.ndarray) -> np.ndarray:
    """Per pair: both names differ outright, the precise birth date is the same and so is the
    address (street, number and postcode) — one person under other names, or co-residents born
    the same day."""
    found: np.ndarray = (
        (levels[:, FAMILY] == 0)
        & (levels[:, GIVEN] == 0)
        & (levels[:, DATE] == SAME_DATE)
        & (levels[:, _ADDRESS] == _SAME_ADDRESS)
    )
    return found


@dataclass(frozen=True)
class Release:
    """Which patterns of household evidence alone may link automatically here (the weight still
    decides): the twins' pattern, a family name in one household, both names replaced at one
    address. None, unless the reviewers' decisions or the index's census showed it."""

    twins: bool = False
    family_household: bool = False
    renamed: bool = False

    def __bool__(self) -> bool:
        return self.twins or self.family_household or self.renamed

    def released(self, levels: np.ndarray) -> np.ndarray:
        """Per pair (a row of a levels array): does it show a pattern let go here?"""
        found = np.zeros(len(levels), dtype=bool)
        if self.twins:
            found |= household_pattern(levels)
        if self.family_household:
            found |= family_household_pattern(levels)
        if self.renamed:
            found |= renamed_pattern(levels)
        return found


NOTHING_RELEASED = Release()


@dataclass(frozen=True)
class HouseholdDecisions:
    """The reviewers' decisions on pairs of the twins' pattern: how many were one person."""

    same: int = 0
    different: int = 0

    @property
    def one_person_share(self) -> float:
        """The Laplace estimate of the share of such pairs that are one person."""
        return (self.same + 1) / (self.same + self.different + 2)

    @property
    def rules_out_twins(self) -> bool:
        """Have the decisions shown that this installation's pattern pairs are one person?"""
        return self.one_person_share >= SAME_SHARE


def household_decisions(levels: np.ndarray, same: np.ndarray) -> HouseholdDecisions:
    """Count the decided pairs (their levels, and whether each was decided *same*) that show
    the twins' pattern."""
    pattern = household_pattern(levels)
    found_same = int(np.count_nonzero(pattern & same))
    return HouseholdDecisions(found_same, int(np.count_nonzero(pattern)) - found_same)


@dataclass(frozen=True)
class HouseholdCensus:
    """Pairs of one household as the index shows them (see the module docstring): of one family
    name, given names differing outright, born the same day (the twins' pattern) or on another day
    (siblings), and all of one family name whose given names and birth dates are known; pairs at
    one address with both names differing, born the same day or on another day."""

    twins_pattern: int = 0
    siblings: int = 0
    household_pairs: int = 0
    renamed_same_day: int = 0
    renamed_other_day: int = 0

    @property
    def one_person_share(self) -> float:
        """A lower estimate of the share of the pattern's pairs that are one person."""
        twins_at_most = TWINS_AMONG_SIBLINGS * self.siblings
        return max(0.0, 1 - (twins_at_most + 1) / (self.twins_pattern + 1))

    @property
    def rules_out_twins(self) -> bool:
        """Do the index's own households show the pattern is almost always one person?"""
        return self.one_person_share >= SAME_SHARE

    @property
    def one_member_share(self) -> float:
        """A lower estimate of the share of a family's pairs in one household that are one person:
        the siblings and the twins they may hold are other people (+1 a phantom sibling pair)."""
        others = (1 + TWINS_AMONG_SIBLINGS) * self.siblings + 1
        return max(0.0, 1 - others / (self.household_pairs + 1))

    @property
    def rules_out_other_members(self) -> bool:
        """Do the index's households hold one person per family name, nearly always?"""
        return self.one_member_share >= SAME_SHARE

    @property
    def renamed_share(self) -> float:
        """A lower estimate of the share of the renamed pattern's pairs that are one person: at
        most one in ``DAYS_IN_YEAR`` of the co-residents born on another day would share the day."""
        if self.renamed_same_day == 0:
            return 0.0
        return max(0.0, 1 - self.renamed_other_day / DAYS_IN_YEAR / self.renamed_same_day)

    @property
    def rules_out_strangers(self) -> bool:
        """Are the renamed pattern's pairs one person here? Only where names are replaced at all
        (the twins' pattern is one person) and chance cannot explain them."""
        return self.rules_out_twins and self.renamed_share >= SAME_SHARE

    def release(self, decided_twins: bool = False) -> Release:
        """The patterns this census (and the reviewers, for the twins) let go."""
        return Release(
            twins=decided_twins or self.rules_out_twins,
            family_household=self.rules_out_other_members,
            renamed=self.rules_out_strangers,
        )


def household_census(levels: np.ndarray, at_one_address: np.ndarray | None = None) -> HouseholdCensus:
    """Count, among pairs (rows of a levels array) that share a family name, those of one
    household (the address at least in part, or the same birth place): with the given names
    differing outright, the twins' pattern and the siblings born on another day; with given names
    and birth dates known on both records, all of them. ``at_one_address``: levels of pairs
    sharing an address (street and number), among which the renamed pattern is counted."""
    household = _one_household(levels) & (levels[:, FAMILY] >= 1)
    differing = household & (levels[:, GIVEN] == 0)
    twins = differing & (levels[:, DATE] == SAME_DATE)
    siblings = differing & (levels[:, DATE] >= 0) & (levels[:, DATE] <= OTHER_DAY)
    known = household & (levels[:, GIVEN] != MISSING) & (levels[:, DATE] != MISSING)
    same_day, other_day = renamed_counts(at_one_address) if at_one_address is not None else (0, 0)
    return HouseholdCensus(
        int(np.count_nonzero(twins)),
        int(np.count_nonzero(siblings)),
        int(np.count_nonzero(known)),
        same_day,
        other_day,
    )


def renamed_counts(levels: np.ndarray) -> tuple[int, int]:
    """Among pairs at one address (street, number and postcode) whose names both differ outright:
    those born the same day (the renamed pattern) and those born on another day (both dates known,
    precise, and not the same)."""
    renamed = (levels[:, FAMILY] == 0) & (levels[:, GIVEN] == 0) & (levels[:, _ADDRESS] == _SAME_ADDRESS)
    date = levels[:, DATE]
    other_day = (date >= 0) & (date < SAME_DATE) & (date != _IMPRECISE) & (date != _PLACEHOLDER)
    return int(np.count_nonzero(renamed & (date == SAME_DATE))), int(np.count_nonzero(renamed & other_day))
