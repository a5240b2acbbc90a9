"""A record's encoding as JSON (the form earlier releases stored; now stored in binary,
``tests/test_encoding_bytes.py``) is written directly (``RecordEncoding.to_json``) rather than by
``json.dumps``: every byte must be what json.dumps wrote, or encodings stored by one version would
read differently in another. Checked on real records and on random ones."""

from __future__ import annotations

import json

from hypothesis import given, settings

from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import random_keys
from tests.support.encodings import encodings

ENCODINGS = encodings()


def _dumped(encoding: RecordEncoding) -> str:
    return json.dumps(encoding.as_dict(), separators=(",", ":"))


@settings(max_examples=300)
@given(ENCODINGS)
def test_to_json_writes_what_json_dumps_writes(encoding: RecordEncoding) -> None:
    assert encoding.to_json() == _dumped(encoding)
    assert encoding.to_json() == _dumped(encoding)  # again, from the kept parts
    assert RecordEncoding.from_json(encoding.to_json()) == encoding


def test_real_encodings_are_written_as_json_dumps_writes_them() -> None:
    keys = random_keys("json")
    identities = [
        Identity(name=PersonName(family_name="Al-Hassan", given_names="Mohammed Ali")),
        Identity(
            name=PersonName(family_name="Öztürk", given_names="Ayşe"),
            variant_names=(PersonName(family_name="Oeztuerk", given_names="Ayse"),),
            birth_date=BirthDate(year=1990, month=1, day=1, precision="day", placeholder=True),
            sex="F",
            nationalities=("TUR",),
            birth_place="İzmir",
            street="Kölner Straße 12",
            postcode="51373",
            azr_number="123456789012",
            jobcenter_customer_no="962D104711",
        ),
        Identity(name=PersonName(family_name="", given_names="Sasha"), birth_date=BirthDate(year=1985, precision="year")),
    ]
    for identity in identities:
        for authoritative in (False, True):
            encoding = encode_identity(identity, keys, authoritative)
            assert encoding.to_json() == _dumped(encoding)
