"""Encodings as columns: the whole index as a few numpy arrays instead of a million objects.

Comparing records one pair at a time in Python costs microseconds per pair and hundreds of bytes
per pair object; at a million records that is hours and gigabytes. Here every field of every
record is one cell of a numpy array (row ``i`` = the ``i``-th record, in ascending id order), so
blocking (``linkage.blocking_arrays``) and comparison (``linkage.compare_arrays``) work on whole
arrays of candidate pairs at once. The arrays hold exactly what ``RecordEncoding`` holds (keyed
tokens, Bloom filters as packed 64-bit words; never clear identity), so ``record(i)`` gives the
object back for the few pairs the clustering still looks at one by one.

Conventions: ``NONE`` (-1) marks a missing token (keyed tokens are 63-bit, never negative);
multi-valued fields are padded with ``NONE`` to the widest record.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from kim_hub.linkage.encode import DateCode, NameCode, RecordEncoding
from kim_hub.linkage.keyed import BLOOM_BITS, PLAIN_BLOOM

NONE = -1
WORDS = BLOOM_BITS // 64
SEXES = ("M", "F", "X")
PRECISIONS = ("day", "month", "year")
_MASK64 = (1 << 64) - 1

if hasattr(np, "bitwise_count"):

    def popcount(words: np.ndarray) -> np.ndarray:
        """Set bits per 64-bit word."""
        return np.bitwise_count(words)
else:  # numpy < 2: a byte table
    _BYTE_BITS = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)

    def popcount(words: np.ndarray) -> np.ndarray:
        """Set bits per 64-bit word."""
        as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
        return _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.uint8)


@dataclass
class EncodingArrays:
    """The encodings of a set of records, one array per field; row order = ascending id."""

    ids: np.ndarray  # int64 [n]
    key_id: np.ndarray  # object [n]: key version of each record (usually one value)
    n_names: np.ndarray  # int8 [n]: spellings recorded (0 = no name)
    fam_c: np.ndarray  # int64 [n, V, T]: canonical tokens of the family name, per spelling
    fam_s: np.ndarray  # skeleton tokens
    fam_p: np.ndarray  # phonetic tokens (blocking only)
    giv_c: np.ndarray
    giv_s: np.ndarray
    giv_p: np.ndarray
    fam_j: np.ndarray  # int64 [n, V]: joined-name token
    giv_j: np.ndarray
    fam_bloom: np.ndarray  # uint64 [n, V, WORDS]
    giv_bloom: np.ndarray
    # int32 [n, V]: set bits of the plain Bloom filter (stored beside a diffused one: keyed.bloom_similarity)
    fam_pop: np.ndarray
    giv_pop: np.ndarray
    d_ymd: np.ndarray  # int64 [n]; all NONE with d_has False when there is no date
    d_ydm: np.ndarray
    d_ym: np.ndarray
    d_md: np.ndarray
    d_year: np.ndarray
    d_has: np.ndarray  # bool [n]
    d_placeholder: np.ndarray  # bool [n]
    d_precision: np.ndarray  # int8 [n]: index into PRECISIONS, NONE without a date
    sex: np.ndarray  # int8 [n]: index into SEXES or NONE
    nat: np.ndarray  # int64 [n, K]
    place_c: np.ndarray  # int64 [n]
    place_s: np.ndarray
    place_bloom: np.ndarray  # uint64 [n, WORDS]
    place_pop: np.ndarray  # int32 [n]
    street: np.ndarray  # int64 [n]
    postcode: np.ndarray
    street_alike: np.ndarray  # int64 [n]: street and number spelled alike (encode._street_alike_key)
    postcode_nb: np.ndarray  # int64 [n, K]: the postcode's one-typo neighbours
    azr: np.ndarray
    azr_nb: np.ndarray  # int64 [n, K]
    azr_auth: np.ndarray  # bool [n]
    jobcenter: np.ndarray  # int64 [n]
    household: np.ndarray  # int64 [n]
    scheme: np.ndarray  # int8 [n]: the encoding scheme (keyed.PLAIN_BLOOM, keyed.DIFFUSED_BLOOM)
    # int16 [n]: which body (source) holds the record, NONE when unknown. Not part of the
    # encoding: the index load sets it from the records' rows (the prior differs by kind of pair)
    body: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, record_ids: np.ndarray | Iterable[int]) -> np.ndarray:
        """Row positions of record ids (all must be present)."""
        wanted = np.asarray(list(record_ids) if not isinstance(record_ids, np.ndarray) else record_ids, dtype=np.int64)
        return np.searchsorted(self.ids, wanted)

    def take(self, rows: np.ndarray) -> EncodingArrays:
        """A subset of rows (kept in the given order; pass sorted rows to keep id order)."""
        return EncodingArrays(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def record(self, i: int) -> RecordEncoding:
        """Row ``i`` as the object the one-pair code (``linkage.compare``) works on.

        Values are read as Python ints (``item``) and token lists as lists (``tolist``): element
        by element, numpy scalars made and compared cost most of a decode, which the clustering
        does for tens of thousands of records at a million."""
        names = tuple(self._name(i, v) for v in range(self.n_names.item(i)))
        date = None
        if self.d_has.item(i):
            date = DateCode(
                ymd=_opt(self.d_ymd.item(i)),
                ydm=_opt(self.d_ydm.item(i)),
                ym=_opt(self.d_ym.item(i)),
                md=_opt(self.d_md.item(i)),
                year=self.d_year.item(i),
                precision=PRECISIONS[self.d_precision.item(i)],
                placeholder=self.d_placeholder.item(i),
            )
        place = None
        diffused = self.scheme.item(i) != PLAIN_BLOOM
        if self.place_c.item(i) != NONE:
            place = (self.place_c.item(i), self.place_s.item(i), _bloom_int(self.place_bloom[i]))
        sex = self.sex.item(i)
        return RecordEncoding(
            key_id=str(self.key_id[i]),
            names=names,
            birth_date=date,
            sex=SEXES[sex] if sex != NONE else None,
            nationalities=_tokens(self.nat[i]),
            birth_place=place,
            street=_opt(self.street.item(i)),
            postcode=_opt(self.postcode.item(i)),
            street_alike=_opt(self.street_alike.item(i)),
            postcode_neighbours=_tokens(self.postcode_nb[i]),
            azr=_opt(self.azr.item(i)),
            azr_neighbours=_tokens(self.azr_nb[i]),
            jobcenter_no=_opt(self.jobcenter.item(i)),
            azr_authoritative=self.azr_auth.item(i),
            household=_opt(self.household.item(i)),
            birth_place_bloom_bits=self.place_pop.item(i) if diffused and place is not None else None,
            scheme=self.scheme.item(i),
        )

    def _name(self, i: int, v: int) -> NameCode:
        def tokens(c: np.ndarray, s: np.ndarray, p: np.ndarray) -> tuple[tuple[int, int, int], ...]:
            return tuple((x, y, z) for x, y, z in zip(c[i, v].tolist(), s[i, v].tolist(), p[i, v].tolist()) if x != NONE)

        diffused = self.scheme.item(i) != PLAIN_BLOOM
        return NameCode(
            family=tokens(self.fam_c, self.fam_s, self.fam_p),
            given=tokens(self.giv_c, self.giv_s, self.giv_p),
            family_joined=_opt(self.fam_j.item(i, v)),
            given_joined=_opt(self.giv_j.item(i, v)),
            family_bloom=_bloom_int(self.fam_bloom[i, v]),
            given_bloom=_bloom_int(self.giv_bloom[i, v]),
            family_bloom_bits=self.fam_pop.item(i, v) if diffused else None,
            given_bloom_bits=self.giv_pop.item(i, v) if diffused else None,
        )

    def to_bytes(self) -> bytes:
        """The arrays as one ``.npz`` blob (a cache; the JSON column stays the record of truth)."""
        buffer = io.BytesIO()
        np.savez(
            buffer, **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "key_id"}, key_id=self.key_id.astype(str)
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> EncodingArrays:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            values = {f.name: data[f.name] for f in fields(cls)}
        values["key_id"] = values["key_id"].astype(object)
        return cls(**values)


def concat(parts: list[EncodingArrays]) -> EncodingArrays:
    """Rows of several array sets, padded to the widest; the caller keeps ids sorted."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return from_encodings({})
    if len(parts) == 1:
        return parts[0]
    out = {}
    for f in fields(EncodingArrays):
        columns = [getattr(p, f.name) for p in parts]
        if columns[0].ndim > 1:
            shape = tuple(max(c.shape[d] for c in columns) for d in range(1, columns[0].ndim))
            columns = [_pad_to(c, shape) for c in columns]
        out[f.name] = np.concatenate(columns)
    return EncodingArrays(**out)


def _pad_to(column: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if column.shape[1:] == shape:
        return column
    fill = 0 if column.dtype in (np.uint64, np.int32) else NONE
    padded = np.full((len(column), *shape), fill, dtype=column.dtype)
    padded[tuple(slice(0, s) for s in column.shape)] = column
    return padded


def from_encodings(encodings: Mapping[int, RecordEncoding]) -> EncodingArrays:
    """Columns of encoded records (as objects), in ascending id order."""
    return _build([(rid, encodings[rid].as_dict()) for rid in sorted(encodings)])


def from_dicts(items: list[tuple[int, dict[str, Any]]]) -> EncodingArrays:
    """Columns of encodings as plain data (``encoding_bytes.as_dict``), in ascending id order,
    without building objects first (binary encodings: ``columnar_packed``, all at once)."""
    return _build(sorted(items, key=lambda item: item[0]))


def _build(items: list[tuple[int, dict[str, Any]]]) -> EncodingArrays:
    """One pass over the records filling flat Python lists, then one array per field (setting
    numpy cells one by one would cost more than the whole comparison)."""
    n = len(items)
    v_max = max([len(d["names"]) for _, d in items] + [1])
    t_max = max([len(name[part]) for _, d in items for name in d["names"] for part in ("family", "given")] + [1])
    k_nat = max([len(d["nationalities"]) for _, d in items] + [1])
    k_azr = max([len(d["azr_neighbours"]) for _, d in items] + [1])
    k_postcode = max([len(d.get("postcode_neighbours", ())) for _, d in items] + [1])
    names = _NameColumns(n, v_max, t_max)
    place_bytes = bytearray(n * WORDS * 8)
    place_bits: dict[int, int] = {}
    columns: dict[str, list[int]] = {
        key: [NONE] * n
        for key in (
            "d_ymd",
            "d_ydm",
            "d_ym",
            "d_md",
            "d_year",
            "place_c",
            "place_s",
            "street",
            "postcode",
            "street_alike",
            "azr",
            "jobcenter",
            "household",
        )
    }
    flags: dict[str, list[bool]] = {key: [False] * n for key in ("d_has", "d_placeholder", "azr_auth")}
    d_precision, sex, n_names, key_id, scheme = [NONE] * n, [NONE] * n, [0] * n, [""] * n, [PLAIN_BLOOM] * n
    nat_rows: list[list[int]] = []
    azr_rows: list[list[int]] = []
    postcode_rows: list[list[int]] = []
    size = WORDS * 8
    for i, (_rid, d) in enumerate(items):
        key_id[i] = d["key_id"]
        scheme[i] = d.get("scheme", PLAIN_BLOOM)
        n_names[i] = len(d["names"])
        names.add(i, d["names"])
        date = d["birth_date"]
        if date:
            flags["d_has"][i] = True
            flags["d_placeholder"][i] = date["placeholder"]
            d_precision[i] = PRECISIONS.index(date["precision"])
            columns["d_year"][i] = date["year"]
            for key in ("ymd", "ydm", "ym", "md"):
                if date[key] is not None:
                    columns["d_" + key][i] = date[key]
        if d["sex"] is not None:
            sex[i] = SEXES.index(d["sex"])
        nat_rows.append(d["nationalities"])
        place = d["birth_place"]
        if place:
            columns["place_c"][i], columns["place_s"][i] = place[0], place[1]
            place_bytes[i * size : (i + 1) * size] = place[2].to_bytes(size, "little")
            if d.get("birth_place_bloom_bits") is not None:
                place_bits[i] = d["birth_place_bloom_bits"]
        for key, column in (
            ("street", "street"),
            ("postcode", "postcode"),
            ("street_alike", "street_alike"),
            ("azr", "azr"),
            ("jobcenter_no", "jobcenter"),
            ("household", "household"),
        ):
            value = d.get(key)
            if value is not None:
                columns[column][i] = value
        azr_rows.append(d["azr_neighbours"])
        postcode_rows.append(d.get("postcode_neighbours", ()))
        flags["azr_auth"][i] = bool(d.get("azr_authoritative", False))
    place_bloom = np.frombuffer(bytes(place_bytes), dtype="<u8").reshape(n, WORDS).astype(np.uint64)
    arrays = {key: np.array(values, dtype=np.int64) for key, values in columns.items()}
    return EncodingArrays(
        ids=np.fromiter((rid for rid, _ in items), dtype=np.int64, count=n),
        key_id=np.array(key_id, dtype=object),
        n_names=np.array(n_names, dtype=np.int8),
        **names.arrays(),
        **{key: arrays[key] for key in ("d_ymd", "d_ydm", "d_ym", "d_md", "d_year")},
        d_has=np.array(flags["d_has"], dtype=bool),
        d_placeholder=np.array(flags["d_placeholder"], dtype=bool),
        d_precision=np.array(d_precision, dtype=np.int8),
        sex=np.array(sex, dtype=np.int8),
        nat=_padded(nat_rows, k_nat),
        place_c=arrays["place_c"],
        place_s=arrays["place_s"],
        place_bloom=place_bloom,
        place_pop=_set_bits(place_bloom, list(place_bits), list(place_bits.values())),
        street=arrays["street"],
        postcode=arrays["postcode"],
        street_alike=arrays["street_alike"],
        postcode_nb=_padded(postcode_rows, k_postcode),
        azr=arrays["azr"],
        azr_nb=_padded(azr_rows, k_azr),
        azr_auth=np.array(flags["azr_auth"], dtype=bool),
        jobcenter=arrays["jobcenter"],
        household=arrays["household"],
        scheme=np.array(scheme, dtype=np.int8),
        body=np.full(n, NONE, dtype=np.int16),
    )


class _NameColumns:
    """The name columns (``fam_*``, ``giv_*``) filled record by record as flat lists, then made
    arrays at once (``_build``)."""

    def __init__(self, n: int, v_max: int, t_max: int) -> None:
        self.n, self.v_max, self.t_max = n, v_max, t_max
        self.token_at: dict[str, list[int]] = {"fam": [], "giv": []}  # flat positions i*V*T + v*T + t
        self.token_val: dict[str, list[tuple[int, int, int]]] = {"fam": [], "giv": []}
        self.joined_at: dict[str, list[int]] = {"fam": [], "giv": []}  # flat positions i*V + v
        self.joined_val: dict[str, list[int]] = {"fam": [], "giv": []}
        self.bits_at: dict[str, list[int]] = {"fam": [], "giv": []}  # where a diffused filter's set bits are stored
        self.bits_val: dict[str, list[int]] = {"fam": [], "giv": []}
        self.bloom_bytes = {"fam": bytearray(n * v_max * WORDS * 8), "giv": bytearray(n * v_max * WORDS * 8)}

    def add(self, i: int, names: list[dict[str, Any]]) -> None:
        size = WORDS * 8
        for v, name in enumerate(names):
            at = i * self.v_max + v
            base = at * self.t_max
            for part, prefix in (("family", "fam"), ("given", "giv")):
                tokens = name[part]
                self.token_at[prefix].extend(range(base, base + len(tokens)))
                self.token_val[prefix].extend(tokens)
                if name[part + "_joined"] is not None:
                    self.joined_at[prefix].append(at)
                    self.joined_val[prefix].append(name[part + "_joined"])
                self.bloom_bytes[prefix][at * size : (at + 1) * size] = name[part + "_bloom"].to_bytes(size, "little")
                if name.get(part + "_bloom_bits") is not None:
                    self.bits_at[prefix].append(at)
                    self.bits_val[prefix].append(name[part + "_bloom_bits"])

    def arrays(self) -> dict[str, np.ndarray]:
        n, v_max, t_max = self.n, self.v_max, self.t_max
        tok: dict[str, np.ndarray] = {}
        for prefix in ("fam", "giv"):
            values = np.array(self.token_val[prefix], dtype=np.int64).reshape(-1, 3)
            at = np.array(self.token_at[prefix], dtype=np.int64)
            for k, suffix in enumerate(("_c", "_s", "_p")):
                flat = np.full(n * v_max * t_max, NONE, dtype=np.int64)
                flat[at] = values[:, k]
                tok[prefix + suffix] = flat.reshape(n, v_max, t_max)
            flat = np.full(n * v_max, NONE, dtype=np.int64)
            flat[np.array(self.joined_at[prefix], dtype=np.int64)] = np.array(self.joined_val[prefix], dtype=np.int64)
            tok[prefix + "_j"] = flat.reshape(n, v_max)
            blooms = np.frombuffer(bytes(self.bloom_bytes[prefix]), dtype="<u8").reshape(n, v_max, WORDS).astype(np.uint64)
            tok[prefix + "_bloom"] = blooms
            tok[prefix + "_pop"] = _set_bits(blooms, self.bits_at[prefix], self.bits_val[prefix])
        return tok


def _set_bits(blooms: np.ndarray, at: list[int], stored: list[int]) -> np.ndarray:
    """Set bits of the plain filters ([n] or [n, V]): counted in plain ones, the count stored
    beside a diffused one at the flat positions ``at``."""
    pops = popcount(blooms).sum(axis=-1, dtype=np.int32)
    if at:
        pops.reshape(-1)[np.array(at, dtype=np.int64)] = np.array(stored, dtype=np.int32)
    return pops


def _padded(rows: list[list[int]], width: int) -> np.ndarray:
    """Ragged rows as an [n, width] array padded with NONE."""
    out = np.full((len(rows), width), NONE, dtype=np.int64)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if lengths.sum():
        flat = np.fromiter((t for r in rows for t in r), dtype=np.int64, count=int(lengths.sum()))
        row_of = np.repeat(np.arange(len(rows)), lengths)
        col_of = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[row_of, col_of] = flat
    return out


def _bloom_words(bits: int) -> np.ndarray:
    return np.frombuffer(bits.to_bytes(WORDS * 8, "little"), dtype="<u8")


def _bloom_int(words: np.ndarray) -> int:
    return int.from_bytes(np.ascontiguousarray(words, dtype="<u8").tobytes(), "little")


def _opt(value: int) -> int | None:
    return None if value == NONE else value


def _tokens(row: np.ndarray) -> tuple[int, ...]:
    """A record's token list without its padding."""
    return tuple(token for token in row.tolist() if token != NONE)
