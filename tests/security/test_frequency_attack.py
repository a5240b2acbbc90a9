"""Attack self-test on the encodings (issues #8 and #23): frequency analysis of the deterministic
tokens, pattern mining and similarity profiles on the Bloom filters, by an attacker who has the
stored encodings but not the key.

The key is random on purpose (tests.support.random_keys): the attacker does not know it, and the
bounds must hold whichever key the hub drew; a fixed key would measure one key forever.

Measured (4,000 persons, ABH export, random keys; ``python -m tests.security.attack``):

* public list from another population: re-identified 0.00–0.05 %, name tokens ~10 %;
* the informed insider (the exact distribution): re-identified 0.4–1.3 % (by key: ties of equal
  frequency are broken by token value), name tokens 25–32 %, birth dates 6–11 % (nearly all 01.01.
  placeholders). Issue #23 asks for < 0.1 %; **not reached**: equal values must give equal
  tokens for the hub to compare them, and so their frequencies stay visible (docs/operations.md,
  "Encodings and what an insider learns");
* the informed insider told which of the 60 most frequent family-name filters is which name
  (45 % of the records): the pattern miners decode 79–87 % of the other records' family names from
  plain filters (scheme 1), 0–1.1 % from diffused ones (scheme 2); matching each filter's
  similarity to the aligned ones still finds 28–35 % (plain: 98–99.5 %).
"""

from __future__ import annotations

import os

import pytest

from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM, EncodingKeys
from tests.security.attack import population, run_attack
from tests.support import random_keys

pytestmark = pytest.mark.e2e

PERSONS = 4000
REIDENTIFICATION_BOUND = 0.01  # issue #8, a public list from another population
INSIDER_REIDENTIFICATION_BOUND = 0.02  # measured 0.4–1.3 %; issue #23's 0.1 % is not reached (see above)
DECODED_BOUND = 0.05  # issue #23: family names decoded from the Bloom filters beyond the alignment


@pytest.fixture(scope="module")
def populations():
    return population(PERSONS, seed=1), population(PERSONS, seed=2)


def test_frequency_attack_reidentifies_below_one_percent(populations) -> None:
    victims, public = populations
    result = run_attack(victims, public, random_keys("attack"))
    print(result.describe())
    assert result.records > 3000 and result.name_tokens > result.records
    assert result.reidentification_rate < REIDENTIFICATION_BOUND
    assert result.token_recovery_rate < 0.25  # measured ~10 %: rank matching finds the frequent names only


def test_informed_insider_decodes_no_diffused_bloom_filter(populations) -> None:
    """The exact distribution known and the 60 most frequent family-name filters named by an
    oracle: neither miner learns bigram bits that decode the other filters of scheme 2."""
    victims, _public = populations
    result = run_attack(victims, victims, random_keys("attack"), oracle_alignment=True)
    print(result.describe())
    assert result.bloom_unaligned > 1000
    assert result.bloom_decoding_rate < DECODED_BOUND
    assert result.reidentification_rate < INSIDER_REIDENTIFICATION_BOUND
    # what comparing to the aligned filters still gives away (plain filters: 99 %): a bound, so
    # that a weaker diffusion (linkage.keyed.DIFFUSION_WEIGHT) shows here
    assert result.profile_decoding_rate < 0.45


def test_the_miners_decode_plain_bloom_filters(populations) -> None:
    """The attack code itself is sound: on plain filters (scheme 1, key versions made before
    scheme 2) the same alignment lets it read most bigrams' bits and decode most other family
    names. So the figure above rests on the diffusion, not on a broken attack."""
    victims, _public = populations
    plain = EncodingKeys.from_master(os.urandom(32), "attack", os.urandom(64), scheme=PLAIN_BLOOM)
    result = run_attack(victims, victims, plain, oracle_alignment=True)
    print(result.describe())
    assert result.bloom_bigrams_correct >= 20
    assert result.bloom_decoding_rate > 0.5
    assert result.profile_decoding_rate > 0.9


def test_random_keys_are_of_the_current_scheme() -> None:
    assert random_keys("attack").scheme == DIFFUSED_BLOOM
