"""A record's stored encoding is written directly (``RecordEncoding.to_json``) rather than by
``json.dumps``: every byte must be what json.dumps wrote, or stored encodings and content would
differ between versions of the hub. Checked on the shipped sample's records and on random ones."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.linkage.encode import DateCode, NameCode, RecordEncoding, encode_identity
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import random_keys

TOKEN = st.integers(min_value=0, max_value=2**63 - 1)
MAYBE = st.none() | TOKEN
BLOOM = st.integers(min_value=0, max_value=2**1024 - 1)
TRIPLES = st.lists(st.tuples(TOKEN, TOKEN, TOKEN), max_size=4).map(tuple)
NAMES = st.builds(
    NameCode,
    family=TRIPLES,
    given=TRIPLES,
    family_joined=MAYBE,
    given_joined=MAYBE,
    family_bloom=BLOOM,
    given_bloom=BLOOM,
    family_bloom_bits=st.none() | st.integers(0, 1024),
    given_bloom_bits=st.none() | st.integers(0, 1024),
)
DATES = st.none() | st.builds(
    DateCode,
    ymd=MAYBE,
    ydm=MAYBE,
    ym=MAYBE,
    md=MAYBE,
    year=TOKEN,
    precision=st.sampled_from(["day", "month", "year"]) | st.text(max_size=5),
    placeholder=st.booleans(),
)
ENCODINGS = st.builds(
    RecordEncoding,
    key_id=st.text(max_size=8),
    names=st.lists(NAMES, max_size=3).map(tuple),
    birth_date=DATES,
    sex=st.none() | st.sampled_from(["M", "F", "X"]) | st.text(max_size=2),
    nationalities=st.lists(TOKEN, max_size=3).map(tuple),
    birth_place=st.none() | st.tuples(TOKEN, TOKEN, BLOOM),
    street=MAYBE,
    postcode=MAYBE,
    azr=MAYBE,
    azr_neighbours=st.lists(TOKEN, max_size=23).map(tuple),
    jobcenter_no=MAYBE,
    azr_authoritative=st.booleans(),
    household=MAYBE,
    birth_place_bloom_bits=st.none() | st.integers(0, 1024),
    scheme=st.sampled_from([1, 2]),
    street_alike=MAYBE,
    postcode_neighbours=st.lists(TOKEN, max_size=9).map(tuple),
)


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
