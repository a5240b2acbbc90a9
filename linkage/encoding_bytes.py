"""A record's encoding in the compact binary form it is stored in (sealed), and read back.

The stored form used to be JSON: a 1024-bit Bloom filter written as some 300 decimal digits, each
keyed token as 19. Sealed and base64-encoded that was 4.1 KB a record; a first link of a million
records spent half its minute reading the JSON back (``json.loads`` alone 32 µs a record), and
the ingest wrote 4 GB to the database. Here every token is 8 bytes, every filter 128, the small
fields one byte each: about a third of the size, read back with ``struct`` in a few microseconds.

Layout (little-endian): a head of fixed size (``HEAD``: marker byte 1, scheme, flags, the counts
of names, nationalities and neighbour tokens, sex, date precision, the key id's length, the scalar
tokens with ``NONE`` for a missing one, the birth place's set bits (-1: none kept) and its Bloom
filter, zeros without a place), the token lists, per spelling of the name ``NAME`` and its tokens
and two filters, and last the key version's id. The head's fixed size lets a whole chunk of
records be read into columns at once (``linkage.columnar_packed``). JSON always starts with
``{``, so the first byte tells the two forms apart: encodings stored as JSON by an earlier
release are read as they are (``as_dict``).

Nothing here is clear identity: the bytes hold exactly what the JSON held, keyed tokens and keyed
filters, and they are stored only sealed (``linkage.sealed``).
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from typing import Any

from kim_hub.linkage.encode import NameCode, RecordEncoding
from kim_hub.linkage.keyed import BLOOM_BITS

MARKER = 1
NONE = -1
SEXES = ("M", "F", "X")
PRECISIONS = ("day", "month", "year")
UNSET = 255  # sex or precision not given
BLOOM_BYTES = BLOOM_BITS // 8

# marker, scheme, flags, names, nationalities, azr nb, postcode nb, sex, precision, key id length;
# ymd ydm ym md year place_c place_s street postcode street_alike azr jobcenter household;
# the place's set bits (-1: a plain filter or none), the place's filter
HEAD = struct.Struct("<BBBHHHHBBB13qi128s")
NAME = struct.Struct("<HHqqii")  # family tokens, given tokens, family joined, given joined, set bits of each filter (-1: plain)
HAS_DATE, PLACEHOLDER, AZR_AUTHORITATIVE, HAS_PLACE = 1, 2, 4, 8
_NO_FILTER = bytes(BLOOM_BYTES)


def is_packed(plain: bytes) -> bool:
    """Is an opened encoding in the binary form (else JSON)?"""
    return plain[:1] == bytes((MARKER,))


def pack(encoding: RecordEncoding) -> bytes:
    """The encoding in its stored binary form."""
    date, place = encoding.birth_date, encoding.birth_place
    flags = (
        (HAS_DATE if date is not None else 0)
        | (PLACEHOLDER if date is not None and date.placeholder else 0)
        | (AZR_AUTHORITATIVE if encoding.azr_authoritative else 0)
        | (HAS_PLACE if place is not None else 0)
    )
    key_id = encoding.key_id.encode("ascii")
    place_bits = encoding.birth_place_bloom_bits if place is not None else None
    parts = [
        HEAD.pack(
            MARKER,
            encoding.scheme,
            flags,
            len(encoding.names),
            len(encoding.nationalities),
            len(encoding.azr_neighbours),
            len(encoding.postcode_neighbours),
            SEXES.index(encoding.sex) if encoding.sex is not None else UNSET,
            PRECISIONS.index(date.precision) if date is not None else UNSET,
            len(key_id),
            _opt(date.ymd) if date else NONE,
            _opt(date.ydm) if date else NONE,
            _opt(date.ym) if date else NONE,
            _opt(date.md) if date else NONE,
            date.year if date else NONE,
            place[0] if place else NONE,
            place[1] if place else NONE,
            _opt(encoding.street),
            _opt(encoding.postcode),
            _opt(encoding.street_alike),
            _opt(encoding.azr),
            _opt(encoding.jobcenter_no),
            _opt(encoding.household),
            -1 if place_bits is None else place_bits,
            _NO_FILTER if place is None else _bloom_bytes(place[2]),
        ),
        _tokens(encoding.nationalities),
        _tokens(encoding.azr_neighbours),
        _tokens(encoding.postcode_neighbours),
        *(_name_bytes(name) for name in encoding.names),
        key_id,
    ]
    return b"".join(parts)


def as_dict(plain: bytes | str) -> dict[str, Any]:
    """An opened encoding, binary or JSON, as the plain data ``RecordEncoding.as_dict`` gives
    (what the columns are built from: ``linkage.columnar``)."""
    if isinstance(plain, str):
        return dict(json.loads(plain))
    if not is_packed(plain):
        return dict(json.loads(plain.decode("utf-8")))
    return _unpack(plain)


def present_fields(plain: bytes | str) -> dict[str, Any]:
    """Which identity fields an opened encoding carries, read from its head and name headers only
    (what the report counts: ``hub_db.report_queries``). The keys are ``as_dict``'s and are
    truthy where ``as_dict``'s values are: ``names`` (each with ``family`` and ``given`` counts of
    tokens), ``nationalities`` (their count), ``birth_place``, ``street``, ``postcode``, ``azr``,
    ``birth_date`` (only its ``precision`` and ``placeholder``) and ``sex``. No token or filter is
    built: 3.2 µs against the whole decode's 13.9, which the report paid for each record."""
    if isinstance(plain, str) or not is_packed(plain):
        return as_dict(plain)
    head = HEAD.unpack_from(plain, 0)
    _marker, _scheme, flags, n_names, n_nat, n_azr, n_postcode, sex, precision, key_length = head[:10]
    _ymd, _ydm, _ym, _md, _year, _place_c, _place_s, street, postcode, _alike, azr = head[10:21]  # as _unpack names them
    at = HEAD.size + 8 * (n_nat + n_azr + n_postcode)
    names = []
    for _ in range(n_names):
        n_family, n_given = NAME.unpack_from(plain, at)[:2]
        names.append({"family": n_family, "given": n_given})
        at += NAME.size + 24 * (n_family + n_given) + 2 * BLOOM_BYTES
    if at + key_length != len(plain):
        raise ValueError("a stored encoding is longer or shorter than its layout")
    return {
        "names": names,
        "birth_date": {"precision": PRECISIONS[precision], "placeholder": bool(flags & PLACEHOLDER)}
        if flags & HAS_DATE
        else None,
        "sex": None if sex == UNSET else SEXES[sex],
        "nationalities": n_nat,
        "birth_place": bool(flags & HAS_PLACE),
        "street": street != NONE,
        "postcode": postcode != NONE,
        "azr": azr != NONE,
    }


def unpack(plain: bytes | str) -> RecordEncoding:
    """An opened encoding, binary or JSON, as the object."""
    return RecordEncoding.from_dict(as_dict(plain))


def _unpack(data: bytes) -> dict[str, Any]:
    head = HEAD.unpack_from(data, 0)
    _marker, scheme, flags, n_names, n_nat, n_azr, n_postcode, sex, precision, key_length = head[:10]
    ymd, ydm, ym, md, year, place_c, place_s, street, postcode, alike, azr, jobcenter, household = head[10:23]
    place_bits, place_filter = head[23:]
    at = HEAD.size
    nationalities = _struct(n_nat).unpack_from(data, at)
    at += 8 * n_nat
    azr_neighbours = _struct(n_azr).unpack_from(data, at)
    at += 8 * n_azr
    postcode_neighbours = _struct(n_postcode).unpack_from(data, at)
    at += 8 * n_postcode
    names = []
    for _ in range(n_names):
        n_family, n_given, family_joined, given_joined, family_bits, given_bits = NAME.unpack_from(data, at)
        at += NAME.size
        family = _struct(3 * n_family).unpack_from(data, at)
        at += 24 * n_family
        given = _struct(3 * n_given).unpack_from(data, at)
        at += 24 * n_given
        names.append(
            {
                "family": [family[k : k + 3] for k in range(0, len(family), 3)],
                "given": [given[k : k + 3] for k in range(0, len(given), 3)],
                "family_joined": _none(family_joined),
                "given_joined": _none(given_joined),
                "family_bloom": int.from_bytes(data[at : at + BLOOM_BYTES], "little"),
                "given_bloom": int.from_bytes(data[at + BLOOM_BYTES : at + 2 * BLOOM_BYTES], "little"),
                "family_bloom_bits": None if family_bits < 0 else family_bits,
                "given_bloom_bits": None if given_bits < 0 else given_bits,
            }
        )
        at += 2 * BLOOM_BYTES
    if at + key_length != len(data):
        raise ValueError("a stored encoding is longer or shorter than its layout")
    has_place = bool(flags & HAS_PLACE)
    return {
        "key_id": data[at:].decode("ascii"),
        "names": names,
        "birth_date": {
            "ymd": _none(ymd),
            "ydm": _none(ydm),
            "ym": _none(ym),
            "md": _none(md),
            "year": year,
            "precision": PRECISIONS[precision],
            "placeholder": bool(flags & PLACEHOLDER),
        }
        if flags & HAS_DATE
        else None,
        "sex": None if sex == UNSET else SEXES[sex],
        "nationalities": nationalities,
        "birth_place": (place_c, place_s, int.from_bytes(place_filter, "little")) if has_place else None,
        "street": _none(street),
        "postcode": _none(postcode),
        "azr": _none(azr),
        "azr_neighbours": azr_neighbours,
        "jobcenter_no": _none(jobcenter),
        "azr_authoritative": bool(flags & AZR_AUTHORITATIVE),
        "household": _none(household),
        "birth_place_bloom_bits": None if place_bits < 0 or not has_place else place_bits,
        "scheme": scheme,
        "street_alike": _none(alike),
        "postcode_neighbours": postcode_neighbours,
    }


def _name_bytes(name: NameCode) -> bytes:
    return b"".join(
        (
            NAME.pack(
                len(name.family),
                len(name.given),
                _opt(name.family_joined),
                _opt(name.given_joined),
                -1 if name.family_bloom_bits is None else name.family_bloom_bits,
                -1 if name.given_bloom_bits is None else name.given_bloom_bits,
            ),
            _triples(name.family),
            _triples(name.given),
            _bloom_bytes(name.family_bloom),
            _bloom_bytes(name.given_bloom),
        )
    )


@lru_cache(maxsize=100_000)
def _triples(tokens: tuple[tuple[int, int, int], ...]) -> bytes:
    """A name field's token triples (a population repeats them: packed once per process)."""
    return _struct(3 * len(tokens)).pack(*(t for triple in tokens for t in triple))


@lru_cache(maxsize=100_000)
def _bloom_bytes(bits: int) -> bytes:
    """A Bloom filter's 128 bytes (name and place filters repeat: converted once per process)."""
    return bits.to_bytes(BLOOM_BYTES, "little")


def _tokens(tokens: tuple[int, ...]) -> bytes:
    return _struct(len(tokens)).pack(*tokens)


@lru_cache(maxsize=256)
def _struct(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}q")


def _opt(value: int | None) -> int:
    return NONE if value is None else value


def _none(value: int) -> int | None:
    return None if value == NONE else value


def forget_cached_packing() -> None:
    """Drop the packed name tokens and filters kept by this process (after a key rotation)."""
    _triples.cache_clear()
    _bloom_bytes.cache_clear()
