"""Blocking keys that must survive a big index, where common keys exceed the block limit, and the
same-day pairs the prior is calibrated on."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from kim_hub.linkage.blocking import candidate_pairs
from kim_hub.linkage.blocking_arrays import candidate_pair_arrays, same_day_name_pieces
from kim_hub.linkage.calibrate import agrees_exactly, count_agreeing_pairs
from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import seeded_keys

KEYS = seeded_keys("blocking")


def undated(family: str, given: str, street: str) -> Identity:
    return Identity(name=PersonName(family_name=family, given_names=given), street=street, postcode="51373")


def test_records_without_birth_date_meet_by_address_and_name_when_name_blocks_are_too_big() -> None:
    """Without a birth date a record has no date or year key; in a big index its name keys
    (a common family name, year unknown) are shared by more records than a block may hold.
    Its address with its name still finds the other record of the same household member."""
    crowd = {i: encode_identity(undated("Rahimi", "Zahra", f"Feldweg {i}"), KEYS) for i in range(4)}  # namesakes
    records = crowd | {
        10: encode_identity(undated("Rahimi", "Zahra", "Teststraße 12"), KEYS),
        11: encode_identity(undated("RAHIMI", "Zahra", "Teststr. 12"), KEYS),
    }
    assert (10, 11) in candidate_pairs(records, max_block=3)
    arrays = from_encodings(records)
    a, b = candidate_pair_arrays(arrays, max_block=3)
    assert (10, 11) in set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist()))
    assert (0, 1) not in candidate_pairs(records, max_block=3)  # the name alone is still too common


def test_a_missing_birth_date_is_missing_not_a_mismatch_the_birth_place_keeps_a_key() -> None:
    """One record of a person has her birth date, the other none and a call name the list does
    not know; no address. The name keys carry the birth year, so only the family name with the
    birth place (any spelling the place's skeleton holds) brings them together; another family
    name from the same place does not."""
    born = BirthDate(year=1984, month=7, day=2, precision="day", placeholder=False)
    dated = Identity(name=PersonName(family_name="Kovalenko", given_names="Liudmyla"), birth_date=born, birth_place="Kharkiv")
    records = {
        1: encode_identity(dated, KEYS),
        2: encode_identity(Identity(name=PersonName(family_name="Kovalenko", given_names="Lusia"), birth_place="Charkiw"), KEYS),
        3: encode_identity(Identity(name=PersonName(family_name="Melnyk", given_names="Olena"), birth_place="Kharkiv"), KEYS),
    }
    assert candidate_pairs(records) == {(1, 2)}
    arrays = from_encodings(records)
    a, b = candidate_pair_arrays(arrays)
    assert set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist())) == {(1, 2)}


def test_the_same_day_pairs_hold_every_exactly_agreeing_pair() -> None:
    """The prior's calibration counts exactly agreeing pairs among pairs sharing a name token and
    the day. Compound names written apart and together agree exactly on their joined token only."""
    born = BirthDate(year=1990, month=5, day=17, precision="day", placeholder=False)
    records = {
        1: encode_identity(Identity(name=PersonName(family_name="Abdul Rahman", given_names="Nur Ali"), birth_date=born), KEYS),
        2: encode_identity(Identity(name=PersonName(family_name="Abdulrahman", given_names="Nurali"), birth_date=born), KEYS),
        3: encode_identity(Identity(name=PersonName(family_name="Abdul Rahman", given_names="Nur Ali"), birth_date=None), KEYS),
    }
    arrays = from_encodings(records)
    a, b = candidate_pair_arrays(arrays)
    assert agrees_exactly(compare_pairs(arrays, a, b)).sum() == 1
    assert count_agreeing_pairs(arrays).total == 1
    assert len(np.concatenate([a for a, _b in same_day_name_pieces(arrays)])) == 1  # the undated record is in no pair


def test_a_real_birthday_with_sex_and_nationality_holds_names_spelt_beyond_recognition() -> None:
    """Both name parts transcribed differently (no shared token, skeleton or sound) and another
    address: the real birthday, sex and nationality are the only key left. A placeholder day
    (01.01.) gets no such key: it is shared by far too many people to say anything."""

    def person(family: str, given: str, born: BirthDate, street: str) -> Identity:
        return Identity(
            name=PersonName(family_name=family, given_names=given),
            birth_date=born,
            sex="F",
            nationalities=["SYR"],
            street=street,
            postcode="51373" if street.startswith("T") else "50667",
        )

    real = BirthDate(year=1990, month=5, day=17, precision="day", placeholder=False)
    records = _real_day_and_placeholder(person, ("Chaudhry", "Khadija"), ("Shodri", "Hatidsche"), real)
    arrays = from_encodings(records)
    a, b = candidate_pair_arrays(arrays)
    assert set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist())) == candidate_pairs(records)
    assert (1, 2) in candidate_pairs(records)
    assert (3, 4) not in candidate_pairs(records)


def test_without_a_nationality_the_real_birthday_and_sex_alone_are_a_key_where_few_share_them() -> None:
    """A source that keeps no nationality (a charity's export, FEBRL): both names spelt beyond
    recognition and another postcode leave the real birthday and sex; a day that more records
    share than ``KIND_MAX_BLOCK`` allows is no key, nor is a placeholder day."""
    from kim_hub.linkage.blocking import KIND_MAX_BLOCK

    def person(family: str, given: str, born: BirthDate, street: str) -> Identity:
        return Identity(name=PersonName(family_name=family, given_names=given), birth_date=born, sex="F", street=street)

    real = BirthDate(year=1965, month=11, day=3, precision="day", placeholder=False)
    records = _real_day_and_placeholder(person, ("Meadows", "Chelsea"), ("Meaows", "Cehlea"), real)
    by_objects, by_arrays = _pairs_both_ways(records)
    assert by_objects == by_arrays and (1, 2) in by_objects and (3, 4) not in by_objects
    families = [f"{x.upper()}a{y}o{z}" for x, y, z in itertools.product("bdfgk", "lmnpr", "stvz")]
    givens = [f"{x.upper()}i{y}u" for x, y in itertools.product("bdfgkmnp", "lmnprstvz")]
    crowd = {
        i: encode_identity(person(families[i], givens[i], real, f"Weg {i}"), KEYS) for i in range(KIND_MAX_BLOCK["day+sex"] + 1)
    }
    by_objects, by_arrays = _pairs_both_ways(crowd)
    assert by_objects == by_arrays and (0, 1) not in by_objects
    fewer = {i: crowd[i] for i in range(KIND_MAX_BLOCK["day+sex"])}
    assert _pairs_both_ways(fewer)[1] >= {(0, 1)}


def _real_day_and_placeholder(
    person: Callable[[str, str, BirthDate, str], Identity], first: tuple[str, str], second: tuple[str, str], day: BirthDate
) -> dict[int, RecordEncoding]:
    """Records 1 and 2: two spellings of one person born on ``day``, at two addresses; 3 and 4:
    the same with the 01.01. placeholder of that year."""
    placeholder = BirthDate(year=day.year, month=1, day=1, precision="day", placeholder=True)
    return {
        1: encode_identity(person(*first, day, "Teststraße 1"), KEYS),
        2: encode_identity(person(*second, day, "Feldweg 9"), KEYS),
        3: encode_identity(person(*first, placeholder, "Teststraße 1"), KEYS),
        4: encode_identity(person(*second, placeholder, "Feldweg 9"), KEYS),
    }


def born(year: int) -> BirthDate:
    return BirthDate(year=year, month=3, day=14, precision="day", placeholder=False)


def _pairs_both_ways(records: dict) -> tuple[set, set]:
    arrays = from_encodings(records)
    a, b = candidate_pair_arrays(arrays)
    return candidate_pairs(records), set(zip(arrays.ids[a].tolist(), arrays.ids[b].tolist()))


def test_the_postcode_with_a_name_part_finds_a_mistyped_street_without_birth_dates() -> None:
    dated = undated("Kovalenko", "Iryna", "Lindenweg 3").model_copy(update={"birth_date": born(1981)})
    records = {
        1: encode_identity(dated, KEYS),
        2: encode_identity(undated("Kovalenko", "Iryna", "Lindnewg 3"), KEYS),  # no shared street, no date
    }
    assert _pairs_both_ways(records) == ({(1, 2)}, {(1, 2)})


def test_the_postcode_with_a_name_part_is_no_key_where_many_of_the_postcode_share_the_name() -> None:
    """A name part held by more records of one postcode than KIND_MAX_BLOCK allows: that key makes
    no pairs (the namesakes, each at their own street and without a date, share no other key)."""
    from kim_hub.linkage.blocking import KIND_MAX_BLOCK

    crowd = KIND_MAX_BLOCK["postcode+skel"] + 1
    families = [f"{x.upper()}a{y}o{z}" for x, y, z in itertools.product("bdfgk", "lmnpr", "stvz")][:crowd]  # skeletons all differ
    records = {
        i: encode_identity(undated(families[i], "Mohammed", f"Weg {i}").model_copy(update={"birth_date": born(1950 + i)}), KEYS)
        for i in range(crowd)
    }  # each born in another year: no name-and-year key is shared
    by_objects, by_arrays = _pairs_both_ways(records)
    assert by_objects == by_arrays
    assert (0, 1) not in by_objects
    fewer = {i: records[i] for i in range(KIND_MAX_BLOCK["postcode+skel"])}
    assert _pairs_both_ways(fewer)[1] >= {(0, 1)}  # within the limit the shared given name is a key


def test_a_name_part_with_the_birth_year_is_no_key_where_the_index_holds_too_many_namesakes() -> None:
    """A common given name with one birth year grows with the index into a block of strangers:
    beyond ``KIND_MAX_BLOCK`` records it is no key, while the same person's two records still
    meet through their exact birth date. Within the limit the namesakes pair as before."""
    from kim_hub.linkage.blocking import KIND_MAX_BLOCK

    limit = max(KIND_MAX_BLOCK["skel+year"], KIND_MAX_BLOCK["joined+year"])
    letters = itertools.product("bdfgk", "lmnpr", "stvz", "chx")
    families = [f"{x.upper()}a{y}o{z}e{w}" for x, y, z, w in letters]  # skeletons all differ
    assert len(families) > limit

    def mohammed(i: int, day: int) -> Identity:
        born_on = BirthDate(year=1990, month=1 + day // 28, day=1 + day % 28, precision="day", placeholder=False)
        return Identity(name=PersonName(family_name=families[i], given_names="Mohammed"), birth_date=born_on)

    crowd = {i: encode_identity(mohammed(i, i), KEYS) for i in range(limit + 1)}  # each born on another day
    twice = {1000: encode_identity(mohammed(0, 0), KEYS)}  # the first namesake's second record
    by_objects, by_arrays = _pairs_both_ways(crowd | twice)
    assert by_objects == by_arrays
    assert (0, 1) not in by_objects and (0, 1000) in by_objects
    fewer = {i: crowd[i] for i in range(min(KIND_MAX_BLOCK["skel+year"], KIND_MAX_BLOCK["joined+year"]) - 1)}
    assert _pairs_both_ways(fewer)[1] >= {(0, 1)}
