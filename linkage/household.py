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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS, MISSING

SAME_SHARE = 0.95
SAME_DATE = len(LEVELS["birth_date"]) - 1  # "same": precise and equal, not a shared placeholder
OTHER_DAY = 1  # birth-date levels up to "same year, day/month differ": born on another day
# Twins among pairs of siblings living together, at most: twin births are at most about 4 % of
# deliveries (the highest national rates, in West Africa), so in two-child families at most ~8 %
# of sibling pairs are twins, in larger ones fewer.
TWINS_AMONG_SIBLINGS = 0.1
_ADDRESS, _PLACE = FIELDS.index("address"), FIELDS.index("birth_place")
_SAME_PLACE = len(LEVELS["birth_place"]) - 1
_ADDRESS_IN_PART = LEVELS["address"].index("same postcode, or same street and number")  # a postcode a typo apart is no household


def household_pattern(levels: np.ndarray) -> np.ndarray:
    """Per pair (a row of a levels array): family name agrees (any level) or one record lacks
    it, the precise birth date is the same, and the given names differ outright — the twins'
    pattern (a twin's record without a family name looks the same)."""
    family = (levels[:, FAMILY] >= 1) | (levels[:, FAMILY] == MISSING)
    found: np.ndarray = (levels[:, GIVEN] == 0) & family & (levels[:, DATE] == SAME_DATE)
    return found


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
    """Pairs of one household whose given names differ outright, as the index shows them: born the
    same day (the twins' pattern) or on another day (siblings). See the module docstring."""

    twins_pattern: int = 0
    siblings: int = 0

    @property
    def one_person_share(self) -> float:
        """A lower estimate of the share of the pattern's pairs that are one person."""
        twins_at_most = TWINS_AMONG_SIBLINGS * self.siblings
        return max(0.0, 1 - (twins_at_most + 1) / (self.twins_pattern + 1))

    @property
    def rules_out_twins(self) -> bool:
        """Do the index's own households show the pattern is almost always one person?"""
        return self.one_person_share >= SAME_SHARE


def household_census(levels: np.ndarray) -> HouseholdCensus:
    """Count, among pairs (rows of a levels array) with the family name agreeing and the given
    names differing outright that share a household (the address at least in part, or the same
    birth place), the twins' pattern and the siblings born on another day."""
    household = (levels[:, _ADDRESS] >= _ADDRESS_IN_PART) | (levels[:, _PLACE] == _SAME_PLACE)
    differing = household & (levels[:, GIVEN] == 0) & (levels[:, FAMILY] >= 1)
    twins = differing & (levels[:, DATE] == SAME_DATE)
    siblings = differing & (levels[:, DATE] >= 0) & (levels[:, DATE] <= OTHER_DAY)
    return HouseholdCensus(int(np.count_nonzero(twins)), int(np.count_nonzero(siblings)))
