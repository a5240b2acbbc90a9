"""Columns from binary encodings, a whole chunk at once: no Python object per record.

A first link reads every stored encoding into columns (``hub_db.index_snapshot.load``). Read
record by record (``encoding_bytes.as_dict``, then ``columnar._build``) that was about 18 µs a
record in Python, half of the first link's reading of a million. The binary form starts with a
head of fixed size (``encoding_bytes.HEAD``), so here the chunk's encodings are laid end to end in
one byte array and every field of every record is taken with numpy at once: the heads as one
structured array, each token list and each spelling of the name by offsets computed from the
counts in the heads. Only the key version's id, at each record's end, is read per record.

The result is cell for cell what ``columnar._build`` gives from the same encodings
(tests/test_encoding_bytes.py holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kim_hub.linkage.columnar import NONE, WORDS, EncodingArrays, concat, from_dicts, popcount
from kim_hub.linkage.encoding_bytes import (
    AZR_AUTHORITATIVE,
    HAS_DATE,
    HAS_PLACE,
    HEAD,
    NAME,
    PLACEHOLDER,
    UNSET,
    as_dict,
    is_packed,
)
from kim_hub.linkage.encoding_bytes import NONE as STORED_NONE
from kim_hub.runtime.gc_pause import cyclic_gc_paused

_HEAD = np.dtype(
    [
        ("marker", "u1"),
        ("scheme", "u1"),
        ("flags", "u1"),
        ("n_names", "<u2"),
        ("n_nat", "<u2"),
        ("n_azr", "<u2"),
        ("n_postcode", "<u2"),
        ("sex", "u1"),
        ("precision", "u1"),
        ("key_length", "u1"),
        *((name, "<i8") for name in ("ymd", "ydm", "ym", "md", "year", "place_c", "place_s")),
        *((name, "<i8") for name in ("street", "postcode", "street_alike", "azr", "jobcenter", "household")),
        ("place_bits", "<i4"),
        ("place_bloom", "<u8", (WORDS,)),
    ]
)
_NAME = np.dtype(
    [
        ("n_family", "<u2"),
        ("n_given", "<u2"),
        ("family_j", "<i8"),
        ("given_j", "<i8"),
        ("family_bits", "<i4"),
        ("given_bits", "<i4"),
    ]
)
assert _HEAD.itemsize == HEAD.size and _NAME.itemsize == NAME.size, "the layout of linkage.encoding_bytes"
assert STORED_NONE == NONE, "a missing token is stored as the columns hold it: fields are taken over as they are"


@cyclic_gc_paused()  # a chunk's parsed dicts (JSON) only pile up until the arrays are built (runtime.gc_pause)
def from_opened_rows(rows: Iterable[tuple[int, bytes | str]]) -> EncodingArrays:
    """Columns straight from opened encodings, in ascending id order: the binary ones all at once
    (``from_packed``), JSON stored by an earlier release record by record (``columnar``)."""
    binary: list[tuple[int, bytes]] = []
    plain_data: list[tuple[int, dict[str, Any]]] = []
    for rid, plain in sorted(rows, key=lambda row: row[0]):
        if isinstance(plain, bytes) and is_packed(plain):
            binary.append((rid, plain))
        else:
            plain_data.append((rid, as_dict(plain)))
    packed = from_packed([rid for rid, _ in binary], [plain for _, plain in binary])
    if not plain_data:
        return packed
    joined = concat([from_dicts(plain_data), packed])
    return joined.take(np.argsort(joined.ids, kind="stable"))


def from_packed(ids: Sequence[int], packed: Sequence[bytes]) -> EncodingArrays:
    """Columns of binary encodings (``encoding_bytes.pack``), row ``i`` for ``ids[i]`` (ascending)."""
    n = len(packed)
    lengths = np.fromiter((len(p) for p in packed), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    data = np.frombuffer(b"".join(packed), dtype=np.uint8)
    head = _records(data, starts, _HEAD)
    flags = head["flags"]
    at = starts + _HEAD.itemsize
    nat, at = _token_lists(data, at, head["n_nat"].astype(np.int64))
    azr_nb, at = _token_lists(data, at, head["n_azr"].astype(np.int64))
    postcode_nb, at = _token_lists(data, at, head["n_postcode"].astype(np.int64))
    names, at = _names(data, at, head["n_names"].astype(np.int64))
    if not np.array_equal(at + head["key_length"], starts + lengths):
        raise ValueError("a stored encoding is longer or shorter than its layout")
    key_ids: dict[bytes, str] = {}
    key_id = np.array([_key_id(p, k, key_ids) for p, k in zip(packed, head["key_length"].tolist(), strict=True)], dtype=object)
    has_date, has_place = (flags & HAS_DATE) > 0, (flags & HAS_PLACE) > 0
    place_bloom = np.where(has_place[:, None], head["place_bloom"], np.uint64(0)).astype(np.uint64)
    place_pop = popcount(place_bloom).sum(axis=-1, dtype=np.int32)
    stored_bits = has_place & (head["place_bits"] >= 0)
    place_pop[stored_bits] = head["place_bits"][stored_bits]
    return EncodingArrays(
        ids=np.asarray(ids, dtype=np.int64),
        key_id=key_id,
        n_names=head["n_names"].astype(np.int8),
        **names,
        **{f"d_{part}": _where(has_date, head[part]) for part in ("ymd", "ydm", "ym", "md", "year")},
        d_has=has_date,
        d_placeholder=has_date & ((flags & PLACEHOLDER) > 0),
        d_precision=np.where(has_date, head["precision"], NONE).astype(np.int8),
        sex=np.where(head["sex"] == UNSET, NONE, head["sex"]).astype(np.int8),
        nat=nat,
        place_c=_where(has_place, head["place_c"]),
        place_s=_where(has_place, head["place_s"]),
        place_bloom=place_bloom,
        place_pop=place_pop,
        street=head["street"].astype(np.int64),
        postcode=head["postcode"].astype(np.int64),
        street_alike=head["street_alike"].astype(np.int64),
        postcode_nb=postcode_nb,
        azr=head["azr"].astype(np.int64),
        azr_nb=azr_nb,
        azr_auth=(flags & AZR_AUTHORITATIVE) > 0,
        jobcenter=head["jobcenter"].astype(np.int64),
        household=head["household"].astype(np.int64),
        scheme=head["scheme"].astype(np.int8),
        body=np.full(n, NONE, dtype=np.int16),
    )


def _records(data: np.ndarray, at: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """One fixed-size structure at each offset ``at``, as a structured array (the bytes copied by
    slices: an index array of every byte would cost more than the copy)."""
    return np.frombuffer(_slices(data, at, dtype.itemsize), dtype=dtype)


def _slices(data: np.ndarray, at: np.ndarray, size: int) -> bytes:
    """``size`` bytes at each offset ``at``, end to end."""
    raw = data.data  # the array's bytes, sliced without copying until the join
    return b"".join([raw[start : start + size] for start in at.tolist()])


def _words(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The Bloom filter at each offset ``at``, as [n, WORDS] 64-bit words."""
    return np.frombuffer(_slices(data, at, 8 * WORDS), dtype="<u8").reshape(len(at), WORDS).astype(np.uint64)


def _int64s(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian 64-bit integer at each offset ``at``."""
    return np.ascontiguousarray(data[at[:, None] + np.arange(8)]).view("<i8").reshape(len(at)).astype(np.int64)


def _token_lists(data: np.ndarray, at: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record's list of ``counts`` tokens at ``at``, as [n, widest] padded with NONE; and the
    offsets just after them."""
    width = max(int(counts.max(initial=0)), 1)
    out = np.full((len(at), width), NONE, dtype=np.int64)
    column = np.arange(width)
    present = column[None, :] < counts[:, None]
    out[present] = _int64s(data, (at[:, None] + 8 * column[None, :])[present])
    return out, at + 8 * counts


def _names(data: np.ndarray, at: np.ndarray, counts: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The name columns (``fam_*``, ``giv_*``): spelling ``v`` of every record that has one, taken
    for all of them at once, one spelling after another; and the offsets after the names."""
    n, v_max = len(at), max(int(counts.max(initial=0)), 1)
    spellings = []
    offsets = at.copy()
    for v in range(v_max):
        rows = np.flatnonzero(counts > v)
        name = _records(data, offsets[rows], _NAME)
        family_at = offsets[rows] + _NAME.itemsize
        given_at = family_at + 24 * name["n_family"].astype(np.int64)
        bloom_at = given_at + 24 * name["n_given"].astype(np.int64)
        spellings.append((rows, name, family_at, given_at, bloom_at))
        offsets[rows] = bloom_at + 2 * 8 * WORDS
    t_max = max([int(s[1][part].max(initial=0)) for s in spellings for part in ("n_family", "n_given")] + [1])
    out: dict[str, np.ndarray] = {}
    for prefix in ("fam", "giv"):
        for suffix in ("_c", "_s", "_p"):
            out[prefix + suffix] = np.full((n, v_max, t_max), NONE, dtype=np.int64)
        out[prefix + "_j"] = np.full((n, v_max), NONE, dtype=np.int64)
        out[prefix + "_bloom"] = np.zeros((n, v_max, WORDS), dtype=np.uint64)
        out[prefix + "_pop"] = np.zeros((n, v_max), dtype=np.int32)
    for v, (rows, name, family_at, given_at, bloom_at) in enumerate(spellings):
        for prefix, part, tokens_at, bloom_offset in (
            ("fam", "family", family_at, 0),
            ("giv", "given", given_at, 8 * WORDS),
        ):
            count = name["n_" + part].astype(np.int64)
            position = np.arange(t_max)
            present = position[None, :] < count[:, None]
            for k, suffix in enumerate(("_c", "_s", "_p")):
                cells = out[prefix + suffix][rows, v]
                cells[present] = _int64s(data, (tokens_at[:, None] + 24 * position[None, :] + 8 * k)[present])
                out[prefix + suffix][rows, v] = cells
            out[prefix + "_j"][rows, v] = name[part + "_j"]
            blooms = _words(data, bloom_at + bloom_offset)
            out[prefix + "_bloom"][rows, v] = blooms
            bits = name[part + "_bits"]
            out[prefix + "_pop"][rows, v] = np.where(bits >= 0, bits, popcount(blooms).sum(axis=-1, dtype=np.int32))
    return out, offsets


def _where(present: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(present, values, NONE).astype(np.int64)


def _key_id(packed: bytes, length: int, seen: dict[bytes, str]) -> str:
    """The key version's id at the record's end (decoded once per distinct id)."""
    raw = packed[len(packed) - length :] if length else b""
    found = seen.get(raw)
    if found is None:
        found = seen[raw] = raw.decode("ascii")
    return found
