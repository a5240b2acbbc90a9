"""Given-name equivalences learnt from confirmed pairs (linkage.learnt_names): what counts as
evidence, what vetoes it, and that an applied set makes the two names "one name shared" in the
column-wise comparison, the one-pair reference and blocking alike."""

from __future__ import annotations

import dataclasses

import numpy as np

from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.columnar import NONE, EncodingArrays, from_encodings
from kim_hub.linkage.compare import FIELDS, LEVELS, compare
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.learnt_names import (
    LearntNames,
    class_token,
    differing_names,
    identifier_evidence,
    learn,
    records_holding,
)
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import seeded_keys

KEYS = seeded_keys("learnt-names")
GIVEN = FIELDS.index("given_names")
ONE_NAME_SHARED = LEVELS["given_names"].index("one name shared")


def _arrays(*people: tuple[str, str, tuple[int, int, int], str | None]) -> EncodingArrays:
    """Records (given names, family name, birth date, AZR number) with ids 1, 2, …"""
    return from_encodings(
        {
            i: encode_identity(
                Identity(
                    name=PersonName(given_names=given, family_name=family),
                    birth_date=BirthDate(year=y, month=m, day=d, precision="day"),
                    azr_number=azr,
                ),
                KEYS,
            )
            for i, (given, family, (y, m, d), azr) in enumerate(people, start=1)
        }
    )


def _token(arr: EncodingArrays, row: int) -> int:
    return int(arr.giv_c[row, 0, 0])


def test_a_pair_is_learnt_from_two_persons_and_never_from_one() -> None:
    pair = (3, 7)
    assert learn([(pair, "person 1")], []).pairs == frozenset()
    assert learn([(pair, "person 1"), (pair, "person 1")], []).pairs == frozenset()  # one person decided twice
    assert learn([(pair, "person 1"), (pair, "person 2")], []).pairs == {pair}


def test_one_contradiction_keeps_a_pair_apart() -> None:
    pair = (3, 7)
    assert learn([(pair, "p1"), (pair, "p2"), (pair, "p3")], [pair]).pairs == frozenset()


def test_classes_join_transitively_with_the_smallest_token_for_all() -> None:
    learnt = LearntNames(frozenset({(5, 9), (2, 9), (11, 12)}))
    assert learnt.representatives() == {2: 2, 5: 2, 9: 2, 11: 11, 12: 11}
    assert LearntNames.from_bytes(learnt.to_bytes()) == learnt
    assert learnt.fingerprint != LearntNames().fingerprint


def test_only_records_of_wholly_different_single_given_names_teach() -> None:
    arr = _arrays(
        ("Mysha", "Danylenko", (1998, 10, 2), None),
        ("Mykhailo", "Danylenko", (1998, 10, 2), None),
        ("Mykhailo", "Danylenko", (1998, 10, 2), None),  # the same name: nothing to learn
        ("Mykhajlo", "Danylenko", (1998, 10, 2), None),  # a spelling (shared skeleton): nothing to learn
        ("Mysha Petro", "Danylenko", (1998, 10, 2), None),  # two given names: which one is the call name?
        ("Memo", "Yilmaz", (1980, 1, 2), None),  # a listed call name (of Mehmet): still one name
        ("Mustafa", "Yilmaz", (1980, 1, 2), None),
        ("Mehmet", "Yilmaz", (1980, 1, 2), None),  # the list already links Memo to Mehmet
    )
    a = np.array([0, 1, 1, 4, 5, 5])
    b = np.array([1, 2, 3, 1, 6, 7])
    pairs, differ = differing_names(arr, a, b)
    assert differ.tolist() == [True, False, False, False, True, False]
    assert set(pairs[0].tolist()) == {_token(arr, 0), _token(arr, 1)}
    assert set(pairs[4].tolist()) == {_token(arr, 5), _token(arr, 6)}  # Memo's own token, not Mehmet's


def test_an_applied_pair_is_one_name_shared_in_both_comparisons_and_in_blocking() -> None:
    arr = _arrays(
        ("Mysha", "Danylenko", (1998, 10, 2), None),
        ("Mykhailo", "Danylenko", (1998, 10, 2), None),
        ("Mysha", "Kovalenko", (1971, 3, 4), None),  # another Mysha, not this person
        ("Olena", "Danylenko", (1998, 10, 2), None),  # a twin sister: untouched
    )
    a, b = np.array([0, 0]), np.array([1, 3])
    before = compare_pairs(arr, a, b).levels[:, GIVEN]
    learnt = LearntNames(frozenset({tuple(sorted((_token(arr, 0), _token(arr, 1))))}))  # type: ignore[arg-type]
    after_arr = learnt.applied(arr)
    after = compare_pairs(after_arr, a, b).levels[:, GIVEN]
    assert before.tolist() == [0, 0]
    assert after.tolist() == [ONE_NAME_SHARED, 0]
    # the one-pair reference reads the applied columns back and agrees
    assert compare(after_arr.record(0), after_arr.record(1)).levels[GIVEN] == ONE_NAME_SHARED
    # the input is left as it was, and the other Mysha holds the learnt name as well
    assert compare_pairs(arr, a, b).levels[:, GIVEN].tolist() == [0, 0]
    assert sorted(records_holding(after_arr, {class_token(min(learnt.tokens()))}).tolist()) == [1, 2, 3]
    blocked = set(zip(*(x.tolist() for x in candidate_pair_arrays(after_arr))))
    assert (0, 1) in blocked


def test_a_name_agreeing_with_itself_weighs_by_its_own_frequency_and_with_its_class_by_the_class() -> None:
    arr = _arrays(
        ("Mysha", "Danylenko", (1998, 10, 2), None),
        ("Mykhailo", "Danylenko", (1998, 10, 2), None),
        ("Mysha", "Danylenko", (1998, 10, 2), None),
    )
    pair = tuple(sorted((_token(arr, 0), _token(arr, 1))))
    applied = LearntNames(frozenset({pair})).applied(arr)  # type: ignore[arg-type]
    a, b = np.array([0, 0]), np.array([1, 2])
    before, after = compare_pairs(arr, a, b), compare_pairs(applied, a, b)
    assert after.given_token[0] == class_token(min(pair))
    assert after.given_token[1] == before.given_token[1] != NONE  # Mysha and Mysha: as before the class


def test_a_spelling_without_a_free_slot_gets_a_wider_column() -> None:
    arr = _arrays(("Mysha", "Danylenko", (1998, 10, 2), None), ("Mykhailo", "Danylenko", (1998, 10, 2), None))
    full = np.full((len(arr), arr.giv_c.shape[1], 1), NONE, dtype=np.int64)
    full[:, :, 0] = arr.giv_c[:, :, 0]
    narrow = EncodingArrays(**{**arr.__dict__, "giv_c": full, "giv_s": arr.giv_s[:, :, :1], "giv_p": arr.giv_p[:, :, :1]})
    learnt = LearntNames(frozenset({tuple(sorted((_token(arr, 0), _token(arr, 1))))}))  # type: ignore[arg-type]
    wider = learnt.applied(narrow)
    assert wider.giv_c.shape[2] == 2
    assert compare_pairs(wider, np.array([0]), np.array([1])).levels[0, GIVEN] == ONE_NAME_SHARED


def test_the_azr_number_confirms_with_family_name_and_birth_date_and_twins_contradict() -> None:
    arr = _arrays(
        ("Mysha", "Danylenko", (1998, 10, 2), "123456789012"),
        ("Mykhailo", "Danylenko", (1998, 10, 2), "123456789012"),
        ("Hasan", "Yilmaz", (2001, 5, 6), "210987654321"),
        ("Murat", "Yilmaz", (2001, 5, 6), "734019265813"),  # twins: two numbers
        ("Mysha", "Melnyk", (1980, 1, 2), "555555555555"),
        ("Mykhailo", "Melnyk", (1981, 1, 2), "555555555555"),  # one number, but another birth date: not alone
        ("Jo", "Karpenko", (2010, 12, 20), "666666666666"),
        ("Yusuf", "Karpenko", (2010, 12, 20), "666666666696"),  # a typo at one body: no contradiction
    )
    confirmed, contradicted = identifier_evidence(arr)
    mysha = tuple(sorted((_token(arr, 0), _token(arr, 1))))
    twins = tuple(sorted((_token(arr, 2), _token(arr, 3))))
    assert [pair for pair, _person in confirmed] == [mysha]
    assert contradicted == [twins]


def _applied_one_spelling_at_a_time(learnt: LearntNames, arr: EncodingArrays) -> EncodingArrays:
    """``LearntNames.applied`` as it was written before it worked on all spellings at once: the reference."""
    classes = {token: class_token(rep) for token, rep in learnt.representatives().items()}
    c = arr.giv_c
    additions, width = [], c.shape[2]
    for i in range(c.shape[0]):
        for v in range(c.shape[1]):
            held, new = set(c[i, v].tolist()), {}
            for slot, token in enumerate(c[i, v].tolist()):
                if token != NONE and token in classes and classes[token] not in held:
                    new.setdefault(classes[token], slot)
            if new:
                additions.append((i, v, sorted(new.items())))
                width = max(width, int((c[i, v] != NONE).sum()) + len(new))
    columns = {name: np.full((*c.shape[:2], width), NONE, dtype=np.int64) for name in ("giv_c", "giv_s", "giv_p")}
    for name, column in columns.items():
        column[:, :, : c.shape[2]] = getattr(arr, name)
    for i, v, new_tokens in additions:
        free = int((c[i, v] != NONE).sum())
        for offset, (token, slot) in enumerate(new_tokens):
            columns["giv_c"][i, v, free + offset] = token
            columns["giv_s"][i, v, free + offset] = arr.giv_s[i, v, slot]
            columns["giv_p"][i, v, free + offset] = arr.giv_p[i, v, slot]
    return dataclasses.replace(arr, **columns)


def test_class_tokens_are_added_as_one_spelling_at_a_time_adds_them() -> None:
    """Random spellings of up to four names from a small vocabulary, classes that join names
    transitively, spellings that already hold a class's token, two names of one class in one
    spelling, full spellings that widen the columns: the same columns as the reference."""
    draw = np.random.default_rng(3)
    arr = _arrays(*[("Anna", "Test", (1990, 1, 2), None)] * 300)
    names = np.sort(draw.integers(1 << 40, 1 << 62, size=30))  # 63-bit tokens, as keyed ones are: classes stay apart
    n = names.tolist()
    learnt = LearntNames(frozenset({(n[0], n[1]), (n[1], n[2]), (n[3], n[4]), (n[5], n[20]), (n[6], n[29]), (n[7], n[8])}))
    tokens = np.full((300, 2, 4), NONE, dtype=np.int64)
    filled = draw.integers(0, 5, size=(300, 2))  # names in each spelling, from the left
    for (i, v), count in np.ndenumerate(filled):
        tokens[i, v, :count] = draw.choice(names, size=count)
    holding = np.flatnonzero(filled[:, 0] == 3)[:20]
    tokens[holding, 0, 3] = class_token(n[0])  # spellings that hold a class's token already
    arr = dataclasses.replace(
        arr, giv_c=tokens, giv_s=np.where(tokens != NONE, tokens * 7, NONE), giv_p=np.where(tokens != NONE, tokens * 11, NONE)
    )
    expected, applied = _applied_one_spelling_at_a_time(learnt, arr), learnt.applied(arr)
    assert applied.giv_c.shape[2] > 4, "full spellings widened the columns"
    for name in ("giv_c", "giv_s", "giv_p"):
        np.testing.assert_array_equal(getattr(applied, name), getattr(expected, name))
