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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.compare import DATE, FAMILY, GIVEN, LEVELS

SAME_SHARE = 0.95
SAME_DATE = len(LEVELS["birth_date"]) - 1  # "same": precise and equal, not a shared placeholder


def household_pattern(levels: np.ndarray) -> np.ndarray:
    """Per pair (a row of a levels array): family name agrees (any level), the precise birth date
    is the same, and the given names differ outright — the twins' pattern."""
    found: np.ndarray = (levels[:, GIVEN] == 0) & (levels[:, FAMILY] >= 1) & (levels[:, DATE] == SAME_DATE)
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
