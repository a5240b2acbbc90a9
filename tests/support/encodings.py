"""Random record encodings (hypothesis strategies) for the tests of their stored forms.

``encodings(stored_values_only=True)`` draws only what ``linkage.encode`` can produce (sex M, F, X
or none, the three date precisions, a short ASCII key id): what the binary form
(``linkage.encoding_bytes``) must carry exactly. Without it, any text where the JSON takes text."""

from __future__ import annotations

from hypothesis import strategies as st

from kim_hub.linkage.encode import DateCode, NameCode, RecordEncoding

TOKEN = st.integers(min_value=0, max_value=2**63 - 1)
MAYBE = st.none() | TOKEN
BLOOM = st.integers(min_value=0, max_value=2**1024 - 1)
SET_BITS = st.none() | st.integers(0, 1024)
TRIPLES = st.lists(st.tuples(TOKEN, TOKEN, TOKEN), max_size=4).map(tuple)
NAMES = st.builds(
    NameCode,
    family=TRIPLES,
    given=TRIPLES,
    family_joined=MAYBE,
    given_joined=MAYBE,
    family_bloom=BLOOM,
    given_bloom=BLOOM,
    family_bloom_bits=SET_BITS,
    given_bloom_bits=SET_BITS,
)
PRECISIONS = st.sampled_from(["day", "month", "year"])
SEXES = st.none() | st.sampled_from(["M", "F", "X"])


def encodings(stored_values_only: bool = False) -> st.SearchStrategy[RecordEncoding]:
    """Random encodings; ``stored_values_only``: only values ``encode_identity`` gives."""
    dates = st.none() | st.builds(
        DateCode,
        ymd=MAYBE,
        ydm=MAYBE,
        ym=MAYBE,
        md=MAYBE,
        year=TOKEN,
        precision=PRECISIONS if stored_values_only else PRECISIONS | st.text(max_size=5),
        placeholder=st.booleans(),
    )
    drawn = st.builds(
        RecordEncoding,
        key_id=st.text(alphabet="k0123456789-", max_size=12) if stored_values_only else st.text(max_size=8),
        names=st.lists(NAMES, max_size=3).map(tuple),
        birth_date=dates,
        sex=SEXES if stored_values_only else SEXES | st.text(max_size=2),
        nationalities=st.lists(TOKEN, max_size=3).map(tuple),
        birth_place=st.none() | st.tuples(TOKEN, TOKEN, BLOOM),
        street=MAYBE,
        postcode=MAYBE,
        azr=MAYBE,
        azr_neighbours=st.lists(TOKEN, max_size=23).map(tuple),
        jobcenter_no=MAYBE,
        azr_authoritative=st.booleans(),
        household=MAYBE,
        birth_place_bloom_bits=SET_BITS,
        scheme=st.sampled_from([1, 2]),
        street_alike=MAYBE,
        postcode_neighbours=st.lists(TOKEN, max_size=9).map(tuple),
    )
    # a place's set bits are kept only beside its filter (linkage.encode._encode_place)
    return drawn.filter(lambda e: e.birth_place is not None or e.birth_place_bloom_bits is None) if stored_values_only else drawn
