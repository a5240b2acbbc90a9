"""Pseudonymisation: identity in, keyed encodings out.

This is the only place where clear identity meets the keys. What comes out can be compared
(equal tokens, Bloom-filter similarity) but not read: names become keyed tokens of their
canonical and skeleton forms plus a keyed Bloom filter (diffused under scheme 2:
``linkage.keyed``), dates become keyed tokens of their parts,
identifiers keyed tokens of themselves and of their neighbours with two neighbouring digits
blanked (so a mistyped digit or two swapped ones are still noticed without storing the number).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from kim_hub.linkage.keyed import PLAIN_BLOOM, EncodingKeys, bigrams, forget_cached_tokens
from kim_hub.linkage.normalise import article_free, canonical, fold, formal_names, name_tokens, phonetic, skeleton, variant_group
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName


@dataclass(frozen=True, slots=True)
class NamePart:
    """One name field (family or given) as sets, the shape comparison works on."""

    canonical: frozenset[int]
    skeletons: frozenset[int]
    joined: int | None
    bloom: int
    bloom_bits: int | None  # set bits of the plain filter when ``bloom`` is diffused (keyed.bloom_similarity)

    @property
    def empty(self) -> bool:
        return not self.canonical


@dataclass(frozen=True)
class NameCode:
    """One spelling of a name, encoded. Token lists hold (canonical, skeleton, phonetic) tokens."""

    family: tuple[tuple[int, int, int], ...]
    given: tuple[tuple[int, int, int], ...]
    family_joined: int | None
    given_joined: int | None
    family_bloom: int
    given_bloom: int
    family_bloom_bits: int | None = None  # None: a plain filter (scheme 1); else it is diffused
    given_bloom_bits: int | None = None

    @cached_property
    def parts(self) -> tuple[NamePart, NamePart]:
        """(family, given) as sets; computed once per record, used by every comparison."""
        return (
            NamePart(
                frozenset(t[0] for t in self.family),
                frozenset(t[1] for t in self.family),
                self.family_joined,
                self.family_bloom,
                self.family_bloom_bits,
            ),
            NamePart(
                frozenset(t[0] for t in self.given),
                frozenset(t[1] for t in self.given),
                self.given_joined,
                self.given_bloom,
                self.given_bloom_bits,
            ),
        )


@dataclass(frozen=True, slots=True)
class DateCode:
    """A birth date as keyed tokens of its parts; precision and placeholder flag in clear."""

    ymd: int | None
    ydm: int | None  # day and month swapped, to notice swaps
    ym: int | None
    md: int | None
    year: int
    precision: str
    placeholder: bool


@dataclass(frozen=True)
class RecordEncoding:
    """Everything the master index knows of a record's identity."""

    key_id: str
    names: tuple[NameCode, ...]
    birth_date: DateCode | None
    sex: str | None
    nationalities: tuple[int, ...]
    birth_place: tuple[int, int, int] | None  # canonical token, skeleton token, Bloom filter
    street: int | None
    postcode: int | None
    azr: int | None
    azr_neighbours: tuple[int, ...]
    jobcenter_no: int | None
    azr_authoritative: bool = False  # from the register's own keeper: a different number is another person
    household: int | None = None  # the job centre's BG-Nummer, keyed: who shares a household
    birth_place_bloom_bits: int | None = None  # set bits of the plain filter when the place's is diffused
    scheme: int = PLAIN_BLOOM  # the key version's encoding scheme (linkage.keyed); stored encodings without one are 1
    # The street and number spelled alike (letters reduced to their skeleton) and the postcode's
    # one-typo neighbours: what the address's "near" level compares. Encodings stored before
    # they existed have neither, so their addresses compare as before.
    street_alike: int | None = None
    postcode_neighbours: tuple[int, ...] = ()

    def to_json(self) -> str:
        """``json.dumps(self.as_dict(), separators=(",", ":"))``, byte for byte, written directly:
        half the time, because the parts a population repeats (a name's tokens, its 1024-bit
        Bloom filter, whose decimal digits alone cost 2 µs) are written once per process
        (``_token_list``, ``_big_int``). tests/test_encoding_json.py holds it to json.dumps."""
        date = self.birth_date
        names = ",".join(_name_json(n) for n in self.names)
        date_json = (
            "null"
            if date is None
            else f'{{"ymd":{_int(date.ymd)},"ydm":{_int(date.ydm)},"ym":{_int(date.ym)},"md":{_int(date.md)},'
            f'"year":{int(date.year)},"precision":{json.dumps(date.precision)},"placeholder":{_bool(date.placeholder)}}}'
        )
        place = self.birth_place
        place_json = "null" if place is None else f"[{int(place[0])},{int(place[1])},{_big_int(place[2])}]"
        return (
            f'{{"key_id":{json.dumps(self.key_id)},"names":[{names}],"birth_date":{date_json},'
            f'"sex":{"null" if self.sex is None else json.dumps(self.sex)},'
            f'"nationalities":[{",".join(str(int(n)) for n in self.nationalities)}],"birth_place":{place_json},'
            f'"street":{_int(self.street)},"postcode":{_int(self.postcode)},"azr":{_int(self.azr)},'
            f'"azr_neighbours":[{",".join(str(int(n)) for n in self.azr_neighbours)}],"jobcenter_no":{_int(self.jobcenter_no)},'
            f'"azr_authoritative":{_bool(self.azr_authoritative)},"household":{_int(self.household)},'
            f'"birth_place_bloom_bits":{_int(self.birth_place_bloom_bits)},"scheme":{int(self.scheme)},'
            f'"street_alike":{_int(self.street_alike)},'
            f'"postcode_neighbours":[{",".join(str(int(n)) for n in self.postcode_neighbours)}]}}'
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data, in declaration order (as ``dataclasses.asdict`` would give,
        without its deep copies, which cost more than the whole encoding)."""
        date = self.birth_date
        return {
            "key_id": self.key_id,
            "names": [
                {
                    "family": n.family,
                    "given": n.given,
                    "family_joined": n.family_joined,
                    "given_joined": n.given_joined,
                    "family_bloom": n.family_bloom,
                    "given_bloom": n.given_bloom,
                    "family_bloom_bits": n.family_bloom_bits,
                    "given_bloom_bits": n.given_bloom_bits,
                }
                for n in self.names
            ],
            "birth_date": None
            if date is None
            else {
                "ymd": date.ymd,
                "ydm": date.ydm,
                "ym": date.ym,
                "md": date.md,
                "year": date.year,
                "precision": date.precision,
                "placeholder": date.placeholder,
            },
            "sex": self.sex,
            "nationalities": self.nationalities,
            "birth_place": self.birth_place,
            "street": self.street,
            "postcode": self.postcode,
            "azr": self.azr,
            "azr_neighbours": self.azr_neighbours,
            "jobcenter_no": self.jobcenter_no,
            "azr_authoritative": self.azr_authoritative,
            "household": self.household,
            "birth_place_bloom_bits": self.birth_place_bloom_bits,
            "scheme": self.scheme,
            "street_alike": self.street_alike,
            "postcode_neighbours": self.postcode_neighbours,
        }

    @classmethod
    def from_json(cls, text: str) -> RecordEncoding:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordEncoding:
        """The object of ``as_dict``'s plain data (also of stored JSON, where the newer fields may be missing)."""
        names = tuple(
            NameCode(
                family=tuple(tuple(t) for t in n["family"]),
                given=tuple(tuple(t) for t in n["given"]),
                family_joined=n["family_joined"],
                given_joined=n["given_joined"],
                family_bloom=n["family_bloom"],
                given_bloom=n["given_bloom"],
                family_bloom_bits=n.get("family_bloom_bits"),
                given_bloom_bits=n.get("given_bloom_bits"),
            )
            for n in data["names"]
        )
        date = DateCode(**data["birth_date"]) if data["birth_date"] else None
        place = tuple(data["birth_place"]) if data["birth_place"] else None
        return cls(
            key_id=data["key_id"],
            names=names,
            birth_date=date,
            sex=data["sex"],
            nationalities=tuple(data["nationalities"]),
            birth_place=place,
            street=data["street"],
            postcode=data["postcode"],
            azr=data["azr"],
            azr_neighbours=tuple(data["azr_neighbours"]),
            jobcenter_no=data["jobcenter_no"],
            azr_authoritative=data.get("azr_authoritative", False),
            household=data.get("household"),
            birth_place_bloom_bits=data.get("birth_place_bloom_bits"),
            scheme=data.get("scheme", PLAIN_BLOOM),
            street_alike=data.get("street_alike"),
            postcode_neighbours=tuple(data.get("postcode_neighbours", ())),
        )


def _int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _name_json(name: NameCode) -> str:
    return (
        f'{{"family":{_token_list(name.family)},"given":{_token_list(name.given)},'
        f'"family_joined":{_int(name.family_joined)},"given_joined":{_int(name.given_joined)},'
        f'"family_bloom":{_big_int(name.family_bloom)},"given_bloom":{_big_int(name.given_bloom)},'
        f'"family_bloom_bits":{_int(name.family_bloom_bits)},"given_bloom_bits":{_int(name.given_bloom_bits)}}}'
    )


@lru_cache(maxsize=100_000)
def _token_list(tokens: tuple[tuple[int, int, int], ...]) -> str:
    """A name field's token triples as JSON (keyed tokens: nothing in clear is kept here)."""
    return "[" + ",".join(f"[{int(a)},{int(b)},{int(c)}]" for a, b, c in tokens) + "]"


@lru_cache(maxsize=100_000)
def _big_int(value: int) -> str:
    """A Bloom filter's decimal digits (its keyed bits: nothing in clear is kept here)."""
    return str(int(value))


def encode_identity(identity: Identity, keys: EncodingKeys, azr_authoritative: bool = False) -> RecordEncoding:
    """Turn one record's identity into keyed encodings; the identity can be dropped afterwards.

    ``azr_authoritative`` marks records of the body that keeps the AZR (the foreigners
    authority): two such records with AZR numbers more than a typo apart are two people.
    """
    names = tuple(code for name in (identity.name, *identity.variant_names) if (code := _encode_name(name, keys)) is not None)
    place, place_bits = _encode_place(identity.birth_place, keys)
    return RecordEncoding(
        key_id=keys.key_id,
        names=names,
        birth_date=_encode_date(identity.birth_date, keys),
        sex=identity.sex if identity.sex in ("M", "F", "X") else None,
        nationalities=tuple(sorted({keys.token("identifier", f"nat:{n}") for n in identity.nationalities if n != "XXX"})),
        birth_place=place,
        street=_optional_token(keys, "address", _street_key(identity.street)),
        postcode=_optional_token(keys, "address", f"plz:{identity.postcode}" if identity.postcode else None),
        azr=keys.unique_token("identifier", f"azr:{identity.azr_number}") if identity.azr_number else None,
        azr_neighbours=_digit_neighbours(identity.azr_number, keys),
        jobcenter_no=keys.unique_token("identifier", f"jc:{identity.jobcenter_customer_no.upper()}")
        if identity.jobcenter_customer_no
        else None,
        azr_authoritative=azr_authoritative and identity.azr_number is not None,
        household=_optional_token(keys, "identifier", f"bg:{identity.household_no}" if identity.household_no else None),
        birth_place_bloom_bits=place_bits,
        scheme=keys.scheme,
        street_alike=_optional_token(keys, "address", _street_alike_key(identity.street)),
        postcode_neighbours=_postcode_neighbours(identity.postcode, keys),
    )


def _encode_name(name: PersonName, keys: EncodingKeys) -> NameCode | None:
    family = _encoded_part(name.family_name, keys)
    given = _encoded_part(name.given_names, keys, call_names=True)
    if not family.tokens and not given.tokens:
        return None
    return NameCode(
        family=family.tokens,
        given=given.tokens,
        family_joined=family.joined,
        given_joined=given.joined,
        family_bloom=family.bloom,
        given_bloom=given.bloom,
        family_bloom_bits=family.bloom_bits,
        given_bloom_bits=given.bloom_bits,
    )


@dataclass(frozen=True, slots=True)
class _EncodedPart:
    tokens: tuple[tuple[int, int, int], ...]
    joined: int | None
    bloom: int
    bloom_bits: int | None


@lru_cache(maxsize=100_000)
def _encoded_part(text: str, keys: EncodingKeys, call_names: bool = False) -> _EncodedPart:
    """One name field encoded; cached, because family and given names repeat across a
    population (encoding each anew was over a quarter of the pseudonymisation time).

    ``call_names`` (given names): a call name also carries the tokens of the formal names it
    stands for (``_formal_codes``), so Sasha and Oleksandr share a name; the joined token and the
    Bloom filter stay those of the name as written."""
    tokens = _name_part_tokens(text)
    codes = _token_codes(tokens, keys) + (_formal_codes(tokens, keys) if call_names else ())
    bloom, bloom_bits = keys.bloom(bigrams(_joined_canonical(tokens)))
    return _EncodedPart(codes, _joined_token(tokens, keys), bloom, bloom_bits)


def _formal_codes(tokens: list[str], keys: EncodingKeys) -> tuple[tuple[int, int, int], ...]:
    """The (canonical, skeleton, sound) tokens of the formal names the call names among
    ``tokens`` stand for (``normalise.formal_names``). Each keeps its call name's *sound*: the
    blocking key of two name parts (``linkage.blocking``) skips parts that sound alike, so a call
    name and its own formal name are never a key of their own (every Karim would meet every
    other through Karim + Abdulkarim)."""
    codes: list[tuple[int, int, int]] = []
    taken = {variant_group(canonical(t)) for t in tokens}
    for token in tokens:
        for formal in formal_names(token):
            group = variant_group(canonical(formal))
            if group in taken:
                continue
            taken.add(group)
            sound = keys.token("name", f"p:{phonetic(token)}")
            codes.append((keys.token("name", f"c:{group}"), keys.token("name", f"s:{skeleton(group)}"), sound))
    return tuple(codes)


def forget_cached_encodings() -> None:
    """Drop every cached token, Bloom position and encoded name part of this process: after a
    key rotation nothing derived from a destroyed key stays in memory."""
    _encoded_part.cache_clear()
    _encode_place.cache_clear()
    _date_code.cache_clear()
    _postcode_neighbours.cache_clear()
    _token_list.cache_clear()
    _big_int.cache_clear()
    forget_cached_tokens()


def _name_part_tokens(text: str) -> list[str]:
    """Folded tokens of one name field, each article-glued token followed by its bare form."""
    tokens: list[str] = []
    for token in name_tokens(text):
        tokens.append(token)
        bare = article_free(token)
        if bare:
            tokens.append(bare)
    return tokens


def _token_codes(tokens: list[str], keys: EncodingKeys) -> tuple[tuple[int, int, int], ...]:
    """(canonical, skeleton, Kölner Phonetik) tokens of each name part."""
    codes = []
    for token in tokens:
        group = variant_group(canonical(token))
        codes.append(
            (
                keys.token("name", f"c:{group}"),
                keys.token("name", f"s:{skeleton(group)}"),
                keys.token("name", f"p:{phonetic(token)}"),
            )
        )
    return tuple(codes)


def _joined_canonical(tokens: list[str]) -> str:
    """Compound names split or merged (Abdul Rahman / Abdulrahman) agree once joined."""
    primary = [t for t in tokens if article_free(t) is None]
    return canonical("".join(primary))


def _joined_token(tokens: list[str], keys: EncodingKeys) -> int | None:
    joined = _joined_canonical(tokens)
    return keys.token("name", f"j:{variant_group(joined)}") if joined else None


def _encode_date(date: BirthDate | None, keys: EncodingKeys) -> DateCode | None:
    if date is None:
        return None
    return _date_code(date.year, date.month, date.day, date.precision, date.placeholder, keys)


@lru_cache(maxsize=50_000)
def _date_code(year: int, month: int | None, day: int | None, precision: str, placeholder: bool, keys: EncodingKeys) -> DateCode:
    """A birth date's tokens, cached by its parts: a population shares its birth dates (a century
    has 36,525 days, and 1 January of each year stands for many unknown ones), and building its
    five tokens as text and looking each up in the token cache was a tenth of encoding a row."""

    def token(value: str) -> int:
        return keys.token("date", value)

    has_month = month is not None
    has_day = day is not None and has_month
    return DateCode(
        ymd=token(f"{year}-{month}-{day}") if has_day else None,
        ydm=token(f"{year}-{day}-{month}") if has_day else None,
        ym=token(f"ym:{year}-{month}") if has_month else None,
        md=token(f"md:{month}-{day}") if has_day else None,
        year=token(f"y:{year}"),
        precision=precision,
        placeholder=placeholder,
    )


@lru_cache(maxsize=20_000)
def _encode_place(place: str | None, keys: EncodingKeys) -> tuple[tuple[int, int, int] | None, int | None]:
    """(canonical token, skeleton token, Bloom filter) of a birth place, and the filter's set bits
    when it is diffused; cached, because birth places repeat and diffusing each anew cost about a
    tenth of the encoding time."""
    folded = "".join(fold(place or "").split())
    if not folded:
        return None, None
    key = canonical(folded)
    bloom, bloom_bits = keys.bloom(bigrams(key))
    return (keys.token("place", f"c:{key}"), keys.token("place", f"s:{skeleton(key)}"), bloom), bloom_bits


_STREET_WORDS = re.compile(r"[^\W\d_]+|\d+\s*[a-zA-Z]?\b")  # letter runs, and house numbers with their letter


def _street_key(street: str | None) -> str | None:
    """Street and house number: 'Kölner Straße 12' = 'KOELNER STR. 12'."""
    words = [fold(part) or part for part in _STREET_WORDS.findall(street or "")]
    folded = "".join(w.replace(" ", "") for w in words).replace("strasse", "str")
    return f"str:{folded.lower()}" if folded else None


def _street_alike_key(street: str | None) -> str | None:
    """Street and number with the street's letters reduced to their skeleton (first letter,
    consonants, no doubled letters) and spaces dropped: 'Andrea Palce 14' = 'andrea place 14',
    'Swanto n Street' = 'Swanton Street'. Only a street with letters has one: a house number
    alone would make every '12' alike."""
    words = _STREET_WORDS.findall(street or "")
    letters = "".join(fold(w) or w for w in words if not w[0].isdigit()).replace(" ", "").replace("strasse", "str")
    numbers = " ".join(w.replace(" ", "").lower() for w in words if w[0].isdigit())
    shape = skeleton(letters) if letters else ""
    return f"str~:{shape}|{numbers}" if shape else None


@lru_cache(maxsize=20_000)
def _postcode_neighbours(postcode: str | None, keys: EncodingKeys) -> tuple[int, ...]:
    """Tokens of the postcode with one digit blanked, and with two neighbouring digits put in
    order: two postcodes one typo apart (a digit mistyped, two neighbours swapped) share one.
    Cached, because a city has few postcodes."""
    if not postcode:
        return ()
    code = postcode.strip()
    singles = {keys.token("address", f"plz~{i}:{code[:i]}_{code[i + 1 :]}") for i in range(len(code))}
    swaps = {
        keys.token("address", f"plz~~{i}:{code[:i]}{''.join(sorted(code[i : i + 2]))}{code[i + 2 :]}")
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    }
    return tuple(sorted(singles | swaps))


def _optional_token(keys: EncodingKeys, purpose: str, value: str | None) -> int | None:
    return keys.token(purpose, value) if value else None


def _digit_neighbours(number: str | None, keys: EncodingKeys) -> tuple[int, ...]:
    """Tokens of the number with two neighbouring digits blanked, at each position (11 for an
    AZR number).

    Two numbers of one length share one exactly when they differ in at most two neighbouring
    digits: a mistyped digit is blanked together with its neighbour, two swapped neighbours at
    their position. Releases up to 2026-12-07 also stored the tokens with one digit blanked (23 in
    all); two numbers sharing one of those share a two-blank token as well, so they never added a
    match, and records stored with them compare with records stored without them as before. Each
    token is an HMAC the ingest computes for every numbered row: leaving out the twelve that
    added nothing halves the AZR number's share of encoding a row.
    """
    if not number:
        return ()
    if len(number) < 2:
        return tuple(keys.unique_tokens("identifier", ["azr~0:_"]))  # a one-digit number: itself blanked
    pairs = [f"azr~~{i}:{number[:i]}__{number[i + 2 :]}" for i in range(len(number) - 1)]
    return tuple(sorted(set(keys.unique_tokens("identifier", pairs))))
