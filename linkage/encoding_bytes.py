"""A record's encoding in the compact binary form it is stored in (sealed), and read back.

The stored form used to be JSON: a 1024-bit Bloom filter written as some 300 decimal digits, each
keyed token as 19. Sealed and base64-encoded that was 4.1 KB a record; a first link of a million
records spent half its minute reading the JSON back (``json.loads`` alone 32 µs a record), and
the ingest wrote 4 GB to the database. Here every token is 8 bytes, every filter 128, the small
fields one byte each: about a third of the size, read back with ``struct`` in a few microseconds.

Layout (little-endian): a head (``_HEAD``: marker byte 1, scheme, flags, the counts of names,
nationalities and neighbour tokens, sex and date precision), the key version's id, the scalar
tokens (``_SCALARS``, ``NONE`` for a missing one), the birth place's Bloom filter and set bits
when there is a place, the token lists, then per spelling of the name ``_NAME`` and its tokens
and two filters. JSON always starts with ``{``, so the first byte tells the two forms apart:
encodings stored as JSON by an earlier release are read as they are (``as_dict``).

Nothing here is clear identity: the bytes hold exactly what the JSON held, keyed tokens and keyed
filters, and they are stored only sealed (``linkage.sealed``).
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from typing import Any

from kim_hub.linkage.encode import NameCode, RecordEncoding

MARKER = 1
NONE = -1
SEXES = ("M", "F", "X")
PRECISIONS = ("day", "month", "year")
UNSET = 255  # sex or precision not given
BLOOM_BYTES = 128  # keyed.BLOOM_BITS // 8

_HEAD = struct.Struct(
    "<BBBHHHHBBB"
)  # marker, scheme, flags, names, nationalities, azr nb, postcode nb, sex, precision, key id length
_SCALARS = struct.Struct("<13q")  # ymd ydm ym md year place_c place_s street postcode street_alike azr jobcenter household
_NAME = struct.Struct("<HHqqii")  # family tokens, given tokens, family joined, given joined, set bits of each filter (-1: plain)
_BITS = struct.Struct("<i")
_HAS_DATE, _PLACEHOLDER, _AZR_AUTHORITATIVE, _HAS_PLACE, _PLACE_BITS = 1, 2, 4, 8, 16


def is_packed(plain: bytes) -> bool:
    """Is an opened encoding in the binary form (else JSON)?"""
    return plain[:1] == bytes((MARKER,))


def pack(encoding: RecordEncoding) -> bytes:
    """The encoding in its stored binary form."""
    date, place = encoding.birth_date, encoding.birth_place
    flags = (
        (_HAS_DATE if date is not None else 0)
        | (_PLACEHOLDER if date is not None and date.placeholder else 0)
        | (_AZR_AUTHORITATIVE if encoding.azr_authoritative else 0)
        | (_HAS_PLACE if place is not None else 0)
        | (_PLACE_BITS if place is not None and encoding.birth_place_bloom_bits is not None else 0)
    )
    key_id = encoding.key_id.encode("ascii")
    parts = [
        _HEAD.pack(
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
        ),
        key_id,
        _SCALARS.pack(
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
        ),
    ]
    if place is not None:
        parts.append(_bloom_bytes(place[2]))
        if encoding.birth_place_bloom_bits is not None:
            parts.append(_BITS.pack(encoding.birth_place_bloom_bits))
    parts.append(_tokens(encoding.nationalities))
    parts.append(_tokens(encoding.azr_neighbours))
    parts.append(_tokens(encoding.postcode_neighbours))
    parts.extend(_name_bytes(name) for name in encoding.names)
    return b"".join(parts)


def as_dict(plain: bytes | str) -> dict[str, Any]:
    """An opened encoding, binary or JSON, as the plain data ``RecordEncoding.as_dict`` gives
    (what the columns are built from: ``linkage.columnar``)."""
    if isinstance(plain, str):
        return dict(json.loads(plain))
    if not is_packed(plain):
        return dict(json.loads(plain.decode("utf-8")))
    return _unpack(plain)


def unpack(plain: bytes | str) -> RecordEncoding:
    """An opened encoding, binary or JSON, as the object."""
    return RecordEncoding.from_dict(as_dict(plain))


def _unpack(data: bytes) -> dict[str, Any]:
    _marker, scheme, flags, n_names, n_nat, n_azr, n_postcode, sex, precision, key_length = _HEAD.unpack_from(data, 0)
    at = _HEAD.size
    key_id = data[at : at + key_length].decode("ascii")
    at += key_length
    ymd, ydm, ym, md, year, place_c, place_s, street, postcode, alike, azr, jobcenter, household = _SCALARS.unpack_from(data, at)
    at += _SCALARS.size
    place: tuple[int, int, int] | None = None
    place_bits = None
    if flags & _HAS_PLACE:
        place = (place_c, place_s, int.from_bytes(data[at : at + BLOOM_BYTES], "little"))
        at += BLOOM_BYTES
        if flags & _PLACE_BITS:
            (place_bits,) = _BITS.unpack_from(data, at)
            at += _BITS.size
    nationalities = _struct(n_nat).unpack_from(data, at)
    at += 8 * n_nat
    azr_neighbours = _struct(n_azr).unpack_from(data, at)
    at += 8 * n_azr
    postcode_neighbours = _struct(n_postcode).unpack_from(data, at)
    at += 8 * n_postcode
    names = []
    for _ in range(n_names):
        n_family, n_given, family_joined, given_joined, family_bits, given_bits = _NAME.unpack_from(data, at)
        at += _NAME.size
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
    if at != len(data):
        raise ValueError("a stored encoding is longer or shorter than its layout")
    return {
        "key_id": key_id,
        "names": names,
        "birth_date": {
            "ymd": _none(ymd),
            "ydm": _none(ydm),
            "ym": _none(ym),
            "md": _none(md),
            "year": year,
            "precision": PRECISIONS[precision],
            "placeholder": bool(flags & _PLACEHOLDER),
        }
        if flags & _HAS_DATE
        else None,
        "sex": None if sex == UNSET else SEXES[sex],
        "nationalities": nationalities,
        "birth_place": place,
        "street": _none(street),
        "postcode": _none(postcode),
        "azr": _none(azr),
        "azr_neighbours": azr_neighbours,
        "jobcenter_no": _none(jobcenter),
        "azr_authoritative": bool(flags & _AZR_AUTHORITATIVE),
        "household": _none(household),
        "birth_place_bloom_bits": place_bits,
        "scheme": scheme,
        "street_alike": _none(alike),
        "postcode_neighbours": postcode_neighbours,
    }


def _name_bytes(name: NameCode) -> bytes:
    return b"".join(
        (
            _NAME.pack(
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
