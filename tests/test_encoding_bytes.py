"""The stored binary form of a record's encoding (``linkage.encoding_bytes``): everything the
encoding holds comes back exactly, JSON stored by an earlier release reads the same, the columns
read from binary encodings in bulk (``linkage.columnar_packed``) are cell for cell those built
record by record from the same data, and the form holds no clear value."""

from __future__ import annotations

import json
import os
import random
import struct
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.linkage.columnar import EncodingArrays, from_dicts, from_encodings
from kim_hub.linkage.columnar_packed import from_opened_rows
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.encoding_bytes import as_dict, is_packed, pack, present_fields, unpack
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import random_keys
from tests.support.encodings import encodings

IDENTITIES = [
    Identity(name=PersonName(family_name="Al-Hassan", given_names="Mohammed Ali")),
    Identity(
        name=PersonName(family_name="Öztürk", given_names="Ayşe"),
        variant_names=(PersonName(family_name="Oeztuerk", given_names="Ayse"), PersonName(family_name="Ozturk")),
        birth_date=BirthDate(year=1990, month=1, day=1, precision="day", placeholder=True),
        sex="F",
        nationalities=("TUR", "DEU"),
        birth_place="İzmir",
        street="Kölner Straße 12",
        postcode="51373",
        azr_number="123456789012",
        jobcenter_customer_no="962D104711",
        household_no="96201BG0012345",
    ),
    Identity(name=PersonName(family_name="", given_names="Sasha"), birth_date=BirthDate(year=1985, month=6, precision="month")),
    Identity(name=PersonName()),
]


@settings(max_examples=300)
@given(encodings(stored_values_only=True))
def test_every_encoding_comes_back_exactly(encoding: RecordEncoding) -> None:
    packed = pack(encoding)
    assert is_packed(packed) and unpack(packed) == encoding
    assert json.loads(json.dumps(as_dict(packed))) == json.loads(encoding.to_json()), "the same plain data as the JSON"


def presence(data: dict[str, object]) -> dict[str, object]:
    """What the report reads of an encoding: which fields it has, a date's precision and placeholder, sex."""
    names = data["names"]
    date = data["birth_date"]
    assert isinstance(names, list)
    return {
        "family": [bool(n["family"]) for n in names],
        "given": [bool(n["given"]) for n in names],
        "date": None if not isinstance(date, dict) else (date["precision"], date["placeholder"]),
        "nationalities": bool(data["nationalities"]),
        "sex": data["sex"],
        # a token is present when it is there at all (the head keeps -1 for none; 0 is a token too)
        **{key: data[key] is not None and data[key] is not False for key in ("birth_place", "street", "postcode", "azr")},
    }


@settings(max_examples=300)
@given(encodings(stored_values_only=True))
def test_the_fields_present_are_read_from_the_head_as_the_whole_decode_has_them(encoding: RecordEncoding) -> None:
    packed = pack(encoding)
    assert presence(present_fields(packed)) == presence(as_dict(packed))
    assert presence(present_fields(encoding.to_json())) == presence(as_dict(packed)), "JSON of an earlier release"
    with pytest.raises(ValueError):
        present_fields(packed + b"x")


@pytest.mark.parametrize("scheme", [1, 2])
def test_real_encodings_read_the_same_from_binary_and_from_json(scheme: int) -> None:
    keys = EncodingKeys.from_master(os.urandom(32), "bytes", scheme=scheme)
    encoded = {
        i: encode_identity(identity, keys, authoritative)
        for i, (identity, authoritative) in enumerate((identity, flag) for identity in IDENTITIES for flag in (False, True))
    }
    for encoding in encoded.values():
        assert unpack(pack(encoding)) == encoding == unpack(encoding.to_json()) == unpack(encoding.to_json().encode())
    expected = from_encodings(encoded)
    for stored in (pack, RecordEncoding.to_json):  # binary, and JSON as an earlier release stored it
        columns = from_opened_rows((i, stored(e)) for i, e in encoded.items())
        assert all(columns.record(row) == expected.record(row) for row in range(len(encoded)))


def test_the_binary_form_is_compact_and_holds_no_clear_value() -> None:
    keys = random_keys("bytes")
    encoding = encode_identity(IDENTITIES[1], keys)
    packed = pack(encoding)
    assert len(packed) < len(encoding.to_json()) / 2
    # values of five bytes or more: a shorter one may turn up by chance among a kilobyte of keyed bytes
    for clear in (
        b"oztuerk",
        b"\xc3\x96zt\xc3\xbcrk",
        b"izmir",
        b"1990-01",
        b"51373",
        b"123456789",
        b"962d1",
        b"koelner",
        b"k\xc3\xb6lner",
    ):
        assert clear.lower() not in packed.lower()


def test_a_damaged_binary_form_is_refused() -> None:
    packed = pack(encode_identity(IDENTITIES[1], random_keys("bytes")))
    for damaged in (packed[:-1], packed + b"\x00"):
        with pytest.raises((ValueError, struct.error)):
            as_dict(damaged)


@settings(max_examples=60)
@given(st.lists(encodings(stored_values_only=True), min_size=1, max_size=6), st.randoms())
def test_columns_of_binary_encodings_are_cell_for_cell_those_of_their_plain_data(
    drawn: list[RecordEncoding], rnd: random.Random
) -> None:
    ids = rnd.sample(range(1000), len(drawn))
    expected = from_dicts([(i, e.as_dict()) for i, e in zip(ids, drawn, strict=True)])
    binary = from_opened_rows((i, pack(e)) for i, e in zip(ids, drawn, strict=True))
    mixed = from_opened_rows((i, pack(e) if i % 2 else e.to_json()) for i, e in zip(ids, drawn, strict=True))
    for columns in (binary, mixed):
        for field in fields(EncodingArrays):
            got, want = getattr(columns, field.name), getattr(expected, field.name)
            assert got.dtype == want.dtype and got.shape == want.shape, field.name
            np.testing.assert_array_equal(got, want, err_msg=field.name)
