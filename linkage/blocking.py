"""Blocking: which record pairs are worth comparing at all.

Comparing every pair is quadratic; instead each record gets a handful of keys built from its
encodings, and only records sharing a key are compared. The keys are chosen so that each known
kind of variation still leaves at least one key intact: a transliterated family name keeps its
skeleton, a swapped name keeps its tokens, a name misspelt in both parts keeps its sound, a
mistyped date keeps the name keys, a missing name keeps the AZR number, a missing birth date
keeps the address with each name token. Keys shared by too many records (common name +
placeholder date) are dropped: they cost quadratic time and carry little evidence.

The address-and-name key needs no date: without it a record lacking a birth date had only name
keys, and in a big index those (common name, year unknown) exceed the block limit. At a million
generated records it found 13,300 of the 22,600 true pairs blocking missed, 8,800 of them above
the automatic threshold, for 5 % more candidate pairs.

A real birthday (not a 01.01. placeholder) with sex and nationality is a key of its own: both name
parts transcribed beyond a shared token, skeleton or sound, and another address, left no other.
At a million records it found 1,188 of the 9,334 true pairs still missed (612 of them above the
automatic threshold) for 0.6 % more candidate pairs; its blocks hold a few records each. A record
without a nationality has the real birthday and sex alone as that key, where at most
``KIND_MAX_BLOCK`` records share it.

A birth date that is missing is missing, not a mismatch: the name keys carry the birth year, so a
record without a birth date met a dated record of the same person only through its address or
through two name parts that agree. The birth place (its skeleton) with each family-name part is a
key that needs no date. On a generated population where a fifth of the records lack the birth
date and only names, birth date, birth place and sex are known (``benchmarks/partial_evidence.py``,
2,000 persons, 13,231 records, 98,958 true pairs) it cut the true pairs never blocked from 2,537
to 1,903, for 13.5 % more candidate pairs on ``samples/standard`` (with each given-name part as well
it found 330 more for another 14 %).

The sound (Kölner Phonetik) of the whole name is one key, not one per name token: per token it
made the largest blocks of all (86 million of 180 million candidate pairs at a million records)
while finding 0.07 % of the true pairs no other key found; the whole-name key finds more of
them (it is not dropped for a common first name) with 15 % fewer candidate pairs overall.

Some keys grow with the index into blocks of strangers: one name part with the birth year (a
common given name and a year), the family name with the birth place, the birth date with the
postcode, the street with the birth year. At a million generated records the name part with the
year made 81.6 million candidate pairs, 62.7 million of them in blocks above 100 records, and
found 1,337 true pairs no other kind found, in blocks of any size (``benchmarks/blocking_yield.py``):
the records of one person in such a block share a sharper key as well (the exact date, both
name parts, the address). These kinds have their own, smaller limits (``KIND_MAX_BLOCK``). The
name-and-year keys keep 200: a population whose persons have up to ten records each
(``benchmarks/partial_evidence.py``, 5,000 persons, 34,675 records) kept a recall of 0.9484 with
200 where 100 left 0.9456 (0.9496 without these limits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from kim_hub.linkage.encode import NameCode, RecordEncoding

DEFAULT_MAX_BLOCK = 400
# Keys that serve only where their block is small. The postcode with a name part finds a pair whose
# street is mistyped and birth date missing; a name that many people of one postcode share (a
# district's Mohammeds, Yilmaz's) makes it a block of strangers, which the other keys cover.
# The real birthday and sex of records without a nationality serve the same way: a source that
# keeps no nationality (a charity's export, FEBRL) has many people born on one day in a big index.
# The keys that grow with the index (see above) hold their strangers' pairs down the same way.
KIND_MAX_BLOCK = {
    "postcode+skel": 30,
    "day+sex": 30,
    "skel+year": 200,
    "joined+year": 200,
    "skel+place": 100,
    "date+postcode": 100,
    "street+year": 100,
}
SEX_CODES = {"M": 1, "F": 2, "X": 3}  # the sex as a key part; unknown is 0
BlockKey = tuple[str | int, ...]  # (kind, token, token[, token])


def blocking_keys(enc: RecordEncoding) -> set[BlockKey]:
    """The blocking keys of one record: (kind, token, token[, token]) tuples."""
    date = enc.birth_date
    year = date.year if date else 0
    ymd = date.ymd if date and date.ymd is not None else 0
    keys: set[BlockKey] = set()
    for name in enc.names:
        keys |= _name_keys(name, year, ymd)
    if enc.azr is not None:
        keys.add(("azr", enc.azr, 0))
    if enc.jobcenter_no is not None:
        keys.add(("jc", enc.jobcenter_no, 0))
    keys |= _address_keys(enc, year, ymd)
    if enc.birth_place is not None:  # the birth place with each family-name part: also without a birth date
        for name in enc.names:
            for _canon, skel, _sound in name.family:
                keys.add(("skel+place", skel, enc.birth_place[1]))
    if (
        date is not None and ymd and not date.placeholder
    ):  # a real birthday with sex and nationality: names spelt beyond recognition
        sex = SEX_CODES.get(enc.sex or "", 0)
        for nationality in enc.nationalities:
            keys.add(("day+sex+nat", ymd, sex, nationality))
        if not enc.nationalities:  # a source that keeps none: the day and sex alone, where few share them
            keys.add(("day+sex", ymd, sex))
    return keys


def _name_keys(name: NameCode, year: int, ymd: int) -> set[BlockKey]:
    """The keys of one spelling of the name, alone and with the birth year or date."""
    keys: set[BlockKey] = set()
    tokens = name.family + name.given  # both parts: tolerates given/family swaps
    for canon, skel, _sound in tokens:
        keys.add(("skel+year", skel, year))
        if ymd:
            keys.add(("canon+date", canon, ymd))
    if name.family and name.given:  # the whole name by its sound, in either order: both parts misspelt
        first, second = sorted((name.family[0][2], name.given[0][2]))
        keys.add(("phonetic-name+year", first, second, year))
    # any two name parts, wherever the intake put them: swapped fields, patronymic chains
    # (Helen Tesfamariam / Helen Tesfamariam Nahum) and one-part family names all keep a key;
    # not two that sound alike (a call name and its formal name, encode._formal_codes)
    for i, (_c, first, first_sound) in enumerate(tokens):
        for _c2, second, second_sound in tokens[i + 1 :]:
            if first != second and first_sound != second_sound:
                keys.add(("skel+skel", min(first, second), max(first, second)))
    if name.family_joined is not None:
        keys.add(("joined+year", name.family_joined, year))
    return keys


def _address_keys(enc: RecordEncoding, year: int, ymd: int) -> set[BlockKey]:
    """The address with the birth date or year, and a household's street or postcode with each name part."""
    keys: set[BlockKey] = set()
    if ymd and enc.postcode is not None:
        keys.add(("date+postcode", ymd, enc.postcode))
    if enc.street is not None and year:
        keys.add(("street+year", enc.street, year))
    if enc.street is not None:  # a household's address and name: also without a birth date
        for name in enc.names:
            for _canon, skel, _sound in name.family + name.given:
                keys.add(("street+skel", enc.street, skel))
    if enc.postcode is not None:  # the street mistyped, the birth date missing or changed
        for name in enc.names:
            for _canon, skel, _sound in name.family + name.given:
                keys.add(("postcode+skel", enc.postcode, skel))
    return keys


def candidate_pairs(
    encodings: Mapping[int, RecordEncoding],
    focus: Iterable[int] | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> set[tuple[int, int]]:
    """Pairs (low id, high id) that share a blocking key.

    With ``focus`` only pairs that involve at least one focus record are returned: what an
    incremental run needs when a batch of new records meets an existing index.
    """
    blocks: dict[BlockKey, list[int]] = defaultdict(list)
    for record_id, enc in encodings.items():
        for key in blocking_keys(enc):
            blocks[key].append(record_id)
    focus_set = set(focus) if focus is not None else None
    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) < 2 or len(members) > min(max_block, KIND_MAX_BLOCK.get(str(key[0]), max_block)):
            continue
        if focus_set is None:
            ordered = sorted(members)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    pairs.add((a, b))
        else:
            inside = [m for m in members if m in focus_set]
            for a in inside:
                for b in members:
                    if a != b:
                        pairs.add((a, b) if a < b else (b, a))
    return pairs
