"""Diffused Bloom filters (encoding scheme 2, ``linkage.keyed``): what they hide, what they keep.

The attack figures are in ``tests/security``; here the properties the comparison relies on: the
Dice coefficient estimated from two diffused filters stays close to the plain filters' own, an
identical name still compares as 1, stored encodings of scheme 1 (no set-bit counts, no scheme)
read back and compare as before, and filters of the two schemes are never taken for similar.
"""

from __future__ import annotations

import itertools

from kim_hub.linkage.compare import compare
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.keyed import BLOOM_BITS, DIFFUSED_BLOOM, PLAIN_BLOOM, bigrams, bloom_similarity, dice
from kim_hub.mappings.case_summary import Identity, PersonName
from tests.support import seeded_keys

NAMES = [
    "muhammad", "mohammed", "mohamad", "ahmad", "ahmed", "abdulrahman", "abdalrahman", "rahman", "schewtschenko",
    "shevchenko", "oeztuerk", "ozturk", "alexander", "oleksandr", "aleksandr", "hussein", "husain", "hasan", "hassan",
    "kovalenko", "kowalenko", "jusuf", "yusuf", "yousef", "mariam", "maryam", "miriam", "fatima", "fatma",
]  # fmt: skip


def test_diffused_filters_estimate_the_plain_dice_coefficient() -> None:
    plain, diffused = seeded_keys("bloom", PLAIN_BLOOM), seeded_keys("bloom", DIFFUSED_BLOOM)
    errors = []
    for a, b in itertools.combinations(NAMES, 2):
        (pa, _), (pb, _) = plain.bloom(bigrams(a)), plain.bloom(bigrams(b))
        (da, bits_a), (db, bits_b) = diffused.bloom(bigrams(a)), diffused.bloom(bigrams(b))
        assert (bits_a, bits_b) == (pa.bit_count(), pb.bit_count())  # the plain filters' set bits, stored beside
        truth = dice(pa, pb)
        if truth >= 0.5:  # the region the comparison levels are read from (0.55, 0.75)
            errors.append(abs(bloom_similarity(da, bits_a, db, bits_b) - truth))
    assert len(errors) >= 15
    assert sum(errors) / len(errors) < 0.05 and max(errors) < 0.2
    (same, bits), (again, bits_again) = diffused.bloom(bigrams("mohammed")), diffused.bloom(bigrams("mohammed"))
    assert bloom_similarity(same, bits, again, bits_again) == 1.0


def test_a_diffused_filter_sets_bits_whatever_the_name() -> None:
    """About 40 % of the bits are set, short name or long: the bits a bigram sets in a plain
    filter (6 of 1,024) are no longer visible as such."""
    keys = seeded_keys("bloom", DIFFUSED_BLOOM)
    shares = [keys.bloom(bigrams(name))[0].bit_count() / BLOOM_BITS for name in NAMES]
    assert min(shares) > 0.25 and max(shares) < 0.55


def _record(keys_scheme: int, family: str) -> RecordEncoding:
    identity = Identity(name=PersonName(family_name=family, given_names="Samira"), birth_place="Aleppo")
    return encode_identity(identity, seeded_keys("schemes", keys_scheme))


def test_stored_encodings_of_scheme_1_read_back_and_compare_as_before() -> None:
    old = _record(PLAIN_BLOOM, "Schewtschenko")
    text = old.to_json()
    legacy = text.replace(',"family_bloom_bits":null,"given_bloom_bits":null', "").replace(
        ',"birth_place_bloom_bits":null,"scheme":1', ""
    )
    assert legacy != text and '"scheme"' not in legacy  # as a release before scheme 2 stored it
    assert RecordEncoding.from_json(legacy) == old
    other = _record(PLAIN_BLOOM, "Shevchenko")
    assert (
        compare(old, other).levels[0]
        == compare(_record(DIFFUSED_BLOOM, "Schewtschenko"), _record(DIFFUSED_BLOOM, "Shevchenko")).levels[0]
    )


def test_filters_of_two_schemes_are_never_similar() -> None:
    """Two schemes in one index (which a rotation never leaves) compare on their tokens only."""
    plain, diffused = _record(PLAIN_BLOOM, "Kovalenko"), _record(DIFFUSED_BLOOM, "Kovalchuk")
    assert plain.names[0].family_bloom_bits is None and diffused.names[0].family_bloom_bits is not None
    assert bloom_similarity(plain.names[0].family_bloom, None, diffused.names[0].family_bloom, 40) == 0.0
    # "similar spelling" within either scheme, nothing across them
    assert compare(plain, _record(PLAIN_BLOOM, "Kovalchuk")).levels[0] == 1
    assert compare(_record(DIFFUSED_BLOOM, "Kovalenko"), diffused).levels[0] == 1
    assert compare(plain, diffused).levels[0] == 0
