"""The column-wise linkage (blocking, comparison, scoring) must agree with the one-pair reference.

``linkage.compare`` and ``linkage.blocking`` define the semantics; ``linkage.compare_arrays`` and
``linkage.blocking_arrays`` are the fast path the master index runs. On a generated population
(transliterations, swaps, placeholder dates, typos, siblings) every candidate pair must get the
same levels, tokens and score from both, and the same candidate pairs must come out of blocking.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage.blocking import candidate_pairs
from kim_hub.linkage.blocking_arrays import candidate_pair_arrays, candidate_pair_pieces
from kim_hub.linkage.columnar import EncodingArrays, from_encodings
from kim_hub.linkage.columnar_packed import from_opened_rows
from kim_hub.linkage.compare import FIELDS, MISSING, compare, identifiers_conflict, individual_evidence
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.compare_arrays import identifiers_conflict as conflicts
from kim_hub.linkage.compare_arrays import individual_evidence as evidence
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.encoding_bytes import pack
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM
from kim_hub.mappings.case_summary import Identity, PersonName
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys

_ADDRESS = FIELDS.index("address")


@pytest.fixture(scope="module", params=[PLAIN_BLOOM, DIFFUSED_BLOOM], ids=["plain-bloom", "diffused-bloom"])
def population(request):
    """Both encoding schemes: plain Bloom filters (key versions made before scheme 2) are compared
    by their Dice coefficient, diffused ones by its estimate (linkage.keyed.bloom_similarity)."""
    keys = seeded_keys("arrays", request.param)
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), 600, 7, keys)
    return encodings, from_encodings(encodings)


def test_arrays_round_trip_to_the_same_encodings(population) -> None:
    encodings, arrays = population
    ids = list(arrays.ids)
    assert ids == sorted(encodings)
    for row in range(0, len(ids), 37):
        assert arrays.record(row) == encodings[ids[row]]
    again = EncodingArrays.from_bytes(arrays.to_bytes())
    assert all(again.record(r) == arrays.record(r) for r in range(0, len(ids), 101))
    for stored in (pack, RecordEncoding.to_json):  # the stored form, and JSON an earlier release stored
        opened = from_opened_rows((rid, stored(enc)) for rid, enc in encodings.items())
        assert all(opened.record(r) == arrays.record(r) for r in range(0, len(ids), 53))


def test_blocking_finds_the_same_pairs(population) -> None:
    encodings, arrays = population
    a, b = candidate_pair_arrays(arrays)
    got = set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist()))
    assert got == candidate_pairs(encodings)
    focus_ids = sorted(encodings)[::15]
    focus = np.isin(arrays.ids, focus_ids)
    a, b = candidate_pair_arrays(arrays, focus=focus)
    assert set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist())) == candidate_pairs(encodings, focus=focus_ids)


def test_levels_tokens_and_scores_match_the_reference(population) -> None:
    encodings, arrays = population
    a, b = candidate_pair_arrays(arrays)
    rng = np.random.default_rng(3)
    extra_a, extra_b = rng.integers(0, len(arrays), 3000), rng.integers(0, len(arrays), 3000)  # random, mostly non-matches
    a, b = np.concatenate([a, extra_a]), np.concatenate([b, extra_b])
    got = compare_pairs(arrays, a, b)
    model = estimate(encodings)
    scores = model.score_levels(got)
    ids = arrays.ids
    for k in range(len(a)):
        x, y = encodings[int(ids[a[k]])], encodings[int(ids[b[k]])]
        want = compare(x, y)
        assert tuple(got.levels[k]) == want.levels, k
        assert (got.family_token[k], got.given_token[k], got.date_token[k]) == tuple(
            -1 if t is None else t for t in (want.family_token, want.given_token, want.date_token)
        )
        assert bool(got.swapped[k]) == want.swapped
        assert bool(evidence(got.levels[k : k + 1])[0]) == individual_evidence(want)
        assert bool(conflicts(arrays, a[k : k + 1], b[k : k + 1])[0]) == identifiers_conflict(x, y)
        assert scores[k] == pytest.approx(model.score(want), abs=1e-9)


def test_every_pair_compares_the_same_either_way_round(population) -> None:
    """Rows follow the order of imports, which concurrent hub processes interleave: the levels
    and tokens of a pair (and so its score) must not depend on which record comes first."""
    encodings, arrays = population
    a, b = candidate_pair_arrays(arrays)
    forth, back = compare_pairs(arrays, a, b), compare_pairs(arrays, b, a)
    for name in ("levels", "family_token", "given_token", "date_token", "swapped"):
        assert np.array_equal(getattr(forth, name), getattr(back, name)), name
    ids = arrays.ids.tolist()
    for x, y in zip(a.tolist(), b.tolist()):
        assert compare(encodings[ids[x]], encodings[ids[y]]) == compare(encodings[ids[y]], encodings[ids[x]])


def test_stored_json_keeps_its_format(population) -> None:
    """to_json builds the dict by hand (fast); it must stay what dataclasses.asdict gave."""
    import dataclasses
    import json

    encodings, _arrays = population
    for encoding in list(encodings.values())[:200]:
        assert encoding.to_json() == json.dumps(dataclasses.asdict(encoding), separators=(",", ":"))


def test_pair_chunks_join_to_the_sorted_whole(population) -> None:
    _encodings, arrays = population
    a, b = candidate_pair_arrays(arrays)
    chunks = list(candidate_pair_pieces(arrays, chunk=500))
    assert len(chunks) > 3  # really cut into pieces
    assert all(ca[-1] < cb[0] for (ca, _), (cb, _) in zip(chunks, chunks[1:]))  # by first row, no row split
    assert np.array_equal(np.concatenate([c[0] for c in chunks]), a)
    assert np.array_equal(np.concatenate([c[1] for c in chunks]), b)


def test_name_levels_match_the_reference_on_every_pair_of_dense_name_variants() -> None:
    """Names drawn from a few transliteration families, split over one or two tokens, often put
    in the other field and sometimes with a second spelling: every pair of them, so each name
    rule (shared token, joined token, skeleton, Bloom similarity, the swapped orientation and
    when it can still win) meets the reference many times."""
    families = [
        ["Ahmadi", "Achmadi", "Ahmady"],
        ["Karim", "Kareem", "Karimi"],
        ["Ali", "Aly", "Alee"],
        ["Hassan", "Hasan", "Hassen"],
        ["Hussein", "Husain", "Hossein"],
        ["Nur", "Noor", "Nour"],
        ["Abdul", "Abdoul"],
        ["Rahman", "Rachman", "Rahmann"],
    ]
    rng = np.random.default_rng(11)

    def spelling() -> str:
        return " ".join(
            str(rng.choice(families[int(i)])) for i in rng.choice(len(families), int(rng.integers(1, 3)), replace=False)
        )

    def name() -> PersonName:
        family, given = spelling(), spelling()
        if rng.random() < 0.1:
            family = family.replace(" ", "")  # Abdul Rahman / AbdulRahman
        return PersonName(family_name=family, given_names=given)

    keys = seeded_keys("names")
    encodings = {
        i: encode_identity(Identity(name=name(), variant_names=(name(),) if rng.random() < 0.3 else ()), keys) for i in range(160)
    }
    arrays = from_encodings(encodings)
    a, b = np.triu_indices(len(arrays), 1)
    got = compare_pairs(arrays, a, b)
    back = compare_pairs(arrays, b, a)  # either way round (test_every_pair_compares_the_same_either_way_round)
    assert np.array_equal(got.levels, back.levels) and np.array_equal(got.family_token, back.family_token)
    ids = arrays.ids
    for k in range(len(a)):
        want = compare(encodings[int(ids[a[k]])], encodings[int(ids[b[k]])])
        assert tuple(got.levels[k][:2]) == want.levels[:2], k
        assert (got.family_token[k], got.given_token[k]) == tuple(
            -1 if t is None else t for t in (want.family_token, want.given_token)
        )
        assert bool(got.swapped[k]) == want.swapped


def test_address_levels_match_the_reference_in_every_state_of_street_and_postcode(population) -> None:
    """Every combination of street, street spelled alike and postcode (absent, equal, different,
    one typo apart) on both sides: the array path gives the reference's level."""
    encodings, _arrays = population
    base = next(iter(encodings.values()))
    variants = [
        replace(base, street=street, street_alike=alike, postcode=postcode, postcode_neighbours=neighbours)
        for street in (None, 11, 12)
        for alike in (None, 21, 22)
        for postcode, neighbours in ((None, ()), (31, (301, 302)), (32, (302, 303)), (33, (304,)))
    ]
    arrays = from_encodings(dict(enumerate(variants, start=1)))
    a, b = (pairs.ravel() for pairs in np.meshgrid(np.arange(len(variants)), np.arange(len(variants))))
    got = compare_pairs(arrays, a, b).levels[:, _ADDRESS]
    want = [compare(variants[i], variants[j]).levels[_ADDRESS] for i, j in zip(a.tolist(), b.tolist())]
    assert got.tolist() == want
    assert set(want) == {MISSING, 0, 1, 2, 3}
