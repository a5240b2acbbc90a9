"""Comparison levels for the hard cases of this population (small synthetic fixtures)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare import FIELDS, LEVELS, MISSING, compare, identifiers_conflict
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.link import authoritative_conflict
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName


def person(family: str, given: str, date: tuple[int, int | None, int | None] | None = None, **extra) -> Identity:
    birth = None
    if date:
        year, month, day = date
        precision = "day" if day else ("month" if month else "year")
        birth = BirthDate(year=year, month=month, day=day, precision=precision, placeholder=(month, day) == (1, 1))
    return Identity(name=PersonName(family_name=family, given_names=given), birth_date=birth, **extra)


def _collect_leaves(node: object, out: list) -> None:
    if isinstance(node, dict):
        for value in node.values():
            _collect_leaves(value, out)
    elif isinstance(node, list):
        for value in node:
            _collect_leaves(value, out)
    else:
        out.append(node)


def levels(a: Identity, b: Identity, keys) -> dict[str, str]:
    comparison = compare(encode_identity(a, keys), encode_identity(b, keys))
    return {f: ("absent" if lv == MISSING else LEVELS[f][lv]) for f, lv in zip(FIELDS, comparison.levels)}


def test_transliterated_arabic_name_with_same_date_agrees(keys) -> None:
    got = levels(person("MUHAMMAD", "ALI", (1990, 5, 17)), person("Mohammed", "Ali", (1990, 5, 17)), keys)
    assert got["family_name"] == "same"
    assert got["given_names"] == "same"
    assert got["birth_date"] == "same"


def test_german_transliteration_of_ukrainian_name(keys) -> None:
    got = levels(person("Schewtschenko", "Wiktorija", (1985, 2, 3)), person("Shevchenko", "Viktoriia", (1985, 2, 3)), keys)
    assert got["family_name"] == "same" and got["given_names"] == "same"


def test_a_call_name_shares_a_name_with_the_formal_names_it_stands_for(keys) -> None:
    """mappings/call_names.csv: Sasha is Oleksandr's (and Oleksandra's) call name, Mo Mohammed's;
    a call name is never the same name, and two other names stay different."""
    date = (1988, 3, 9)
    assert (
        levels(person("Bondarenko", "Sasha", date), person("Bondarenko", "Oleksandr", date), keys)["given_names"]
        == "one name shared"
    )
    assert (
        levels(person("Bondarenko", "Oleksandra", date), person("Bondarenko", "Sascha", date), keys)["given_names"]
        == "one name shared"
    )
    assert levels(person("Haddad", "Mo", date), person("Haddad", "Muhammad", date), keys)["given_names"] == "one name shared"
    assert (
        levels(person("Bondarenko", "Sasha", date), person("Bondarenko", "Sanya", date), keys)["given_names"] == "one name shared"
    )
    assert (
        levels(person("Bondarenko", "Misha", date), person("Bondarenko", "Oleksandr", date), keys)["given_names"] == "different"
    )
    # the call name's formal forms are given-name evidence only: a family name Sasha is just that
    assert levels(person("Sasha", "Ivan", date), person("Oleksandr", "Ivan", date), keys)["family_name"] != "same"


def test_sisters_with_placeholder_dates_differ_on_given_name(keys) -> None:
    shared = dict(street="Testweg 5", postcode="51373", nationalities=("AFG",), sex="F")
    got = levels(person("Ahmadi", "Zahra", (1990, 1, 1), **shared), person("Ahmadi", "Maryam", (1990, 1, 1), **shared), keys)
    assert got["given_names"] == "different"
    assert got["birth_date"] == "same placeholder date"


def test_swapped_given_and_family_name(keys) -> None:
    a = encode_identity(person("Berisha", "Klodian", (1983, 4, 6)), keys)
    b = encode_identity(person("Klodian", "Berisha", (1983, 4, 6)), keys)
    comparison = compare(a, b)
    assert comparison.swapped
    assert comparison.levels[:2] == (4, 4)


def test_a_pair_compares_the_same_whichever_record_comes_first(keys) -> None:
    """Records are compared in the order they were stored, which two hub processes importing at
    once interleave: a pair must get the same levels and tokens either way round. A swap may be
    either record's (graded both ways), and of two placeholder dates one token is taken."""
    placeholder = dict(precision="day", placeholder=True)
    pairs = [
        (person("Berisha", "Abdul Rahman"), person("Rahman", "Berisha")),  # one of two given names
        (person("Berisha", "Klodian", (1983, 4, 6)), person("Klodjan", "Berisha", (1983, 4, 6))),
        (
            Identity(
                name=PersonName(family_name="X", given_names="Y"), birth_date=BirthDate(year=1990, month=1, day=1, **placeholder)
            ),
            Identity(
                name=PersonName(family_name="X", given_names="Y"), birth_date=BirthDate(year=1990, month=7, day=1, **placeholder)
            ),
        ),
    ]
    for a, b in pairs:
        x, y = encode_identity(a, keys), encode_identity(b, keys)
        assert compare(x, y) == compare(y, x)
    swapped = compare(encode_identity(pairs[0][0], keys), encode_identity(pairs[0][1], keys))
    assert swapped.swapped and swapped.levels[:2] == (4, 4)  # Rahman is a's given name and b's family name


def test_article_and_compound_variants(keys) -> None:
    assert levels(person("Al-Khatib", "Husain"), person("Alkhatib", "Husain"), keys)["family_name"] == "same"
    assert levels(person("Barzani", "Abdul Rahman"), person("Barzani", "Abdulrahman"), keys)["given_names"] == "same"
    assert levels(person("Gebre Medhin", "Samuel"), person("Gebremedhin", "Samuel"), keys)["family_name"] == "same"


def test_day_month_swap_and_year_typo(keys) -> None:
    assert levels(person("X", "Y", (1961, 8, 4)), person("X", "Y", (1961, 4, 8)), keys)["birth_date"] == "day and month swapped"
    assert levels(person("X", "Y", (1961, 8, 4)), person("X", "Y", (1962, 8, 4)), keys)["birth_date"] == "one part differs"
    assert (
        levels(person("X", "Y", (1961, None, None)), person("X", "Y", (1961, 8, 4)), keys)["birth_date"]
        == "same year, one date imprecise"
    )


def test_missing_family_name_is_absent_not_different(keys) -> None:
    assert levels(person("", "Zabihullah"), person("Haidari", "Zabihullah"), keys)["family_name"] == "absent"


def test_azr_numbers_equal_mistyped_or_conflicting(keys) -> None:
    a = encode_identity(person("X", "Y", azr_number="123456789012"), keys, azr_authoritative=True)
    typo = encode_identity(person("X", "Y", azr_number="123456789013"), keys, azr_authoritative=True)
    swap = encode_identity(person("X", "Y", azr_number="123456798012"), keys, azr_authoritative=True)
    other = encode_identity(person("X", "Y", azr_number="987654321098"), keys, azr_authoritative=True)
    typed_in = encode_identity(person("X", "Y", azr_number="987654321098"), keys)  # a provider's copy
    assert compare(a, a).levels[FIELDS.index("azr")] == 2
    assert compare(a, typo).levels[FIELDS.index("azr")] == 1
    assert compare(a, swap).levels[FIELDS.index("azr")] == 1
    assert compare(a, other).levels[FIELDS.index("azr")] == 0
    assert not identifiers_conflict(a, typo) and not identifiers_conflict(a, swap)
    assert identifiers_conflict(a, other)
    assert not identifiers_conflict(a, typed_in)  # strong evidence, but no veto
    unnumbered = encode_identity(person("X", "Y"), keys, azr_authoritative=True)
    records = dict(enumerate((a, typo, swap, other, typed_in, unnumbered), start=10))
    by_id = authoritative_conflict(from_encodings(records))  # what the clustering asks, by record id
    for x in records:
        for y in records:
            assert by_id(x, y) == identifiers_conflict(records[x], records[y]), (x, y)


def _stored_before_2026_12_07(enc: RecordEncoding, number: str, keys) -> RecordEncoding:
    """``enc`` as earlier releases stored it: the tokens with one digit blanked beside those with two."""
    singles = [f"azr~{i}:{number[:i]}_{number[i + 1 :]}" for i in range(len(number))]
    added = keys.unique_tokens("identifier", singles)
    return dataclasses.replace(enc, azr_neighbours=tuple(sorted({*enc.azr_neighbours, *added})))


@given(
    number=st.text("0123456789", min_size=12, max_size=12),
    edits=st.lists(st.tuples(st.integers(0, 11), st.sampled_from("0123456789")), max_size=3),
    swap_at=st.none() | st.integers(0, 10),
)
@settings(max_examples=150, deadline=None)
def test_azr_numbers_near_exactly_when_at_most_two_neighbouring_digits_differ(keys, number, edits, swap_at) -> None:
    other = list(number)
    for position, digit in edits:
        other[position] = digit
    if swap_at is not None:
        other[swap_at], other[swap_at + 1] = other[swap_at + 1], other[swap_at]
    typed = "".join(other)
    differing = [i for i in range(12) if number[i] != typed[i]]
    near = 0 < len(differing) <= 2 and differing[-1] - differing[0] <= 1
    want = 2 if not differing else (1 if near else 0)
    a = encode_identity(person("X", "Y", azr_number=number), keys)
    b = encode_identity(person("X", "Y", azr_number=typed), keys)
    assert len(a.azr_neighbours) == 11
    stored_a, stored_b = _stored_before_2026_12_07(a, number, keys), _stored_before_2026_12_07(b, typed, keys)
    for x, y in ((a, b), (stored_a, b), (a, stored_b), (stored_a, stored_b)):
        assert compare(x, y).levels[FIELDS.index("azr")] == want


def test_encoding_round_trips_through_json_and_carries_key_id(keys) -> None:
    enc = encode_identity(person("Haddad", "Samira", (1988, 3, 14), azr_number="123456789012", street="Testweg 1"), keys)
    assert RecordEncoding.from_json(enc.to_json()) == enc
    assert enc.key_id == keys.key_id
    text = enc.to_json()
    for clear in ("Haddad", "haddad", "HADDAD", "Samira", "samira", "Testweg", "testweg"):
        assert clear not in text
    # numbers: the encoding's integers are 63-bit tokens, so test values, not substrings
    leaves: list = []
    _collect_leaves(json.loads(text), leaves)
    for clear in (1988, 123456789012, 51373, "1988-03-14", "123456789012"):
        assert clear not in leaves


def _address_levels(a: Identity, b: Identity, keys) -> tuple[str, str]:
    """The address level of one pair from the reference comparison and from the array path."""
    from kim_hub.linkage.compare_arrays import compare_pairs

    encodings = {0: encode_identity(a, keys), 1: encode_identity(b, keys)}
    reference = compare(encodings[0], encodings[1]).levels[FIELDS.index("address")]
    arrays = compare_pairs(from_encodings(encodings), np.array([0]), np.array([1])).levels[0, FIELDS.index("address")]
    words = tuple("absent" if lv == MISSING else LEVELS["address"][lv] for lv in (reference, int(arrays)))
    return words  # type: ignore[return-value]


def test_a_postcode_one_record_lacks_is_no_disagreement_on_the_address(keys) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode="31750"),
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40"),
        keys,
    )
    assert got == ("same street and number", "same street and number")


def test_same_street_and_number_beside_a_mistyped_postcode_agree_in_part(keys) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode="31750"),
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode="31570"),
        keys,
    )
    assert got == ("same postcode, or same street and number",) * 2


@pytest.mark.parametrize(
    ("first", "second"),
    [("31750", "31751"), ("31750", "31570"), ("3175", "3715")],  # a digit mistyped; two neighbours swapped
)
def test_postcodes_one_typo_apart_are_near(keys, first: str, second: str) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode=first),
        person("Kluske", "Daniel", (1982, 7, 27), street="Lindenweg 3", postcode=second),
        keys,
    )
    assert got == ("postcode one typo apart, or street spelled alike",) * 2


@pytest.mark.parametrize(("first", "second"), [("31750", "35710"), ("31750", "3175"), ("31750", "31761")])
def test_postcodes_further_apart_differ(keys, first: str, second: str) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode=first),
        person("Kluske", "Daniel", (1982, 7, 27), street="Lindenweg 3", postcode=second),
        keys,
    )
    assert got == ("different", "different")


@pytest.mark.parametrize(
    ("postcode", "level"),
    [
        ("31750", "same street and number"),
        (None, "same postcode, or same street and number"),
        ("42861", "postcode one typo apart, or street spelled alike"),
    ],
)
def test_a_street_spelled_alike_agrees_by_the_postcode_beside_it(keys, postcode: str | None, level: str) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode="31750"),
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawksbury Crescent 40", postcode=postcode),
        keys,
    )
    assert got == (level, level)


def test_a_street_alike_under_another_house_number_differs(keys) -> None:
    got = _address_levels(
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawkesbury Crescent 40", postcode="31750"),
        person("Kluske", "Daniel", (1982, 7, 27), street="Hawksbury Crescent 14", postcode="42861"),
        keys,
    )
    assert got == ("different", "different")
