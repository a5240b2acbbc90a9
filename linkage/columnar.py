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
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

import numpy as np

from linkage.encode import DateCode, NameCode, RecordEncoding
from linkage.keyed import BLOOM_BITS

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
    _BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)

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
    fam_pop: np.ndarray  # int32 [n, V]: set bits of the Bloom filter
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
    azr: np.ndarray
    azr_nb: np.ndarray  # int64 [n, K]
    azr_auth: np.ndarray  # bool [n]
    jobcenter: np.ndarray  # int64 [n]
    household: np.ndarray  # int64 [n]

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
        """Row ``i`` as the object the one-pair code (``linkage.compare``) works on."""
        names = tuple(self._name(i, v) for v in range(int(self.n_names[i])))
        date = None
        if self.d_has[i]:
            date = DateCode(
                ymd=_opt(self.d_ymd[i]), ydm=_opt(self.d_ydm[i]), ym=_opt(self.d_ym[i]), md=_opt(self.d_md[i]),
                year=int(self.d_year[i]), precision=PRECISIONS[self.d_precision[i]], placeholder=bool(self.d_placeholder[i]),
            )
        place = None
        if self.place_c[i] != NONE:
            place = (int(self.place_c[i]), int(self.place_s[i]), _bloom_int(self.place_bloom[i]))
        return RecordEncoding(
            key_id=str(self.key_id[i]),
            names=names,
            birth_date=date,
            sex=SEXES[self.sex[i]] if self.sex[i] != NONE else None,
            nationalities=tuple(int(t) for t in self.nat[i] if t != NONE),
            birth_place=place,
            street=_opt(self.street[i]),
            postcode=_opt(self.postcode[i]),
            azr=_opt(self.azr[i]),
            azr_neighbours=tuple(int(t) for t in self.azr_nb[i] if t != NONE),
            jobcenter_no=_opt(self.jobcenter[i]),
            azr_authoritative=bool(self.azr_auth[i]),
            household=_opt(self.household[i]),
        )

    def _name(self, i: int, v: int) -> NameCode:
        def tokens(c: np.ndarray, s: np.ndarray, p: np.ndarray) -> tuple[tuple[int, int, int], ...]:
            return tuple((int(x), int(y), int(z)) for x, y, z in zip(c[i, v], s[i, v], p[i, v]) if x != NONE)

        return NameCode(
            family=tokens(self.fam_c, self.fam_s, self.fam_p),
            given=tokens(self.giv_c, self.giv_s, self.giv_p),
            family_joined=_opt(self.fam_j[i, v]),
            given_joined=_opt(self.giv_j[i, v]),
            family_bloom=_bloom_int(self.fam_bloom[i, v]),
            given_bloom=_bloom_int(self.giv_bloom[i, v]),
        )

    def to_bytes(self) -> bytes:
        """The arrays as one ``.npz`` blob (a cache; the JSON column stays the record of truth)."""
        buffer = io.BytesIO()
        np.savez(buffer, **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "key_id"}, key_id=self.key_id.astype(str))
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
    return _build([(rid, _as_dict(encodings[rid])) for rid in sorted(encodings)])


def from_json_rows(rows: Iterable[tuple[int, str]]) -> EncodingArrays:
    """Columns straight from stored JSON encodings, without building objects first."""
    # stdlib json: Bloom filters are 1024-bit integers, which faster parsers turn into floats
    return _build(sorted(((rid, json.loads(text)) for rid, text in rows), key=lambda item: item[0]))


def _as_dict(enc: RecordEncoding) -> dict:
    date = enc.birth_date
    return {
        "key_id": enc.key_id,
        "names": [
            {
                "family": n.family, "given": n.given, "family_joined": n.family_joined, "given_joined": n.given_joined,
                "family_bloom": n.family_bloom, "given_bloom": n.given_bloom,
            }
            for n in enc.names
        ],
        "birth_date": None if date is None else {
            "ymd": date.ymd, "ydm": date.ydm, "ym": date.ym, "md": date.md, "year": date.year,
            "precision": date.precision, "placeholder": date.placeholder,
        },
        "sex": enc.sex,
        "nationalities": enc.nationalities,
        "birth_place": enc.birth_place,
        "street": enc.street,
        "postcode": enc.postcode,
        "azr": enc.azr,
        "azr_neighbours": enc.azr_neighbours,
        "jobcenter_no": enc.jobcenter_no,
        "azr_authoritative": enc.azr_authoritative,
        "household": enc.household,
    }


def _build(items: list[tuple[int, dict]]) -> EncodingArrays:
    """One pass over the records filling flat lists, then one array per field."""
    n = len(items)
    v_max = max([len(d["names"]) for _, d in items] + [1])
    t_max = max([len(name[part]) for _, d in items for name in d["names"] for part in ("family", "given")] + [1])
    k_nat = max([len(d["nationalities"]) for _, d in items] + [1])
    k_azr = max([len(d["azr_neighbours"]) for _, d in items] + [1])
    tok = {key: np.full((n, v_max, t_max), NONE, dtype=np.int64) for key in ("fam_c", "fam_s", "fam_p", "giv_c", "giv_s", "giv_p")}
    joined = {key: np.full((n, v_max), NONE, dtype=np.int64) for key in ("fam_j", "giv_j")}
    blooms = {key: np.zeros((n, v_max, WORDS), dtype=np.uint64) for key in ("fam_bloom", "giv_bloom")}
    scalars = {
        key: np.full(n, NONE, dtype=np.int64)
        for key in ("d_ymd", "d_ydm", "d_ym", "d_md", "d_year", "place_c", "place_s", "street", "postcode", "azr", "jobcenter", "household")
    }
    nat = np.full((n, k_nat), NONE, dtype=np.int64)
    azr_nb = np.full((n, k_azr), NONE, dtype=np.int64)
    place_bloom = np.zeros((n, WORDS), dtype=np.uint64)
    n_names = np.zeros(n, dtype=np.int8)
    d_has = np.zeros(n, dtype=bool)
    d_placeholder = np.zeros(n, dtype=bool)
    d_precision = np.full(n, NONE, dtype=np.int8)
    sex = np.full(n, NONE, dtype=np.int8)
    azr_auth = np.zeros(n, dtype=bool)
    key_id = np.empty(n, dtype=object)
    ids = np.fromiter((rid for rid, _ in items), dtype=np.int64, count=n)
    for i, (_rid, d) in enumerate(items):
        key_id[i] = d["key_id"]
        n_names[i] = len(d["names"])
        for v, name in enumerate(d["names"]):
            for part, prefix in (("family", "fam"), ("given", "giv")):
                for t, (c, s, p) in enumerate(name[part]):
                    tok[prefix + "_c"][i, v, t] = c
                    tok[prefix + "_s"][i, v, t] = s
                    tok[prefix + "_p"][i, v, t] = p
                if name[part + "_joined"] is not None:
                    joined[prefix + "_j"][i, v] = name[part + "_joined"]
                blooms[prefix + "_bloom"][i, v] = _bloom_words(name[part + "_bloom"])
        date = d["birth_date"]
        if date:
            d_has[i] = True
            d_placeholder[i] = date["placeholder"]
            d_precision[i] = PRECISIONS.index(date["precision"])
            scalars["d_year"][i] = date["year"]
            for key in ("ymd", "ydm", "ym", "md"):
                if date[key] is not None:
                    scalars["d_" + key][i] = date[key]
        if d["sex"] is not None:
            sex[i] = SEXES.index(d["sex"])
        nat[i, : len(d["nationalities"])] = d["nationalities"]
        place = d["birth_place"]
        if place:
            scalars["place_c"][i], scalars["place_s"][i] = place[0], place[1]
            place_bloom[i] = _bloom_words(place[2])
        for key, column in (("street", "street"), ("postcode", "postcode"), ("azr", "azr"), ("jobcenter_no", "jobcenter"), ("household", "household")):
            if d.get(key) is not None:
                scalars[column][i] = d[key]
        azr_nb[i, : len(d["azr_neighbours"])] = d["azr_neighbours"]
        azr_auth[i] = bool(d.get("azr_authoritative", False))
    return EncodingArrays(
        ids=ids, key_id=key_id, n_names=n_names, **tok, **joined, **blooms,
        fam_pop=popcount(blooms["fam_bloom"]).sum(axis=-1, dtype=np.int32),
        giv_pop=popcount(blooms["giv_bloom"]).sum(axis=-1, dtype=np.int32),
        d_ymd=scalars["d_ymd"], d_ydm=scalars["d_ydm"], d_ym=scalars["d_ym"], d_md=scalars["d_md"], d_year=scalars["d_year"],
        d_has=d_has, d_placeholder=d_placeholder, d_precision=d_precision, sex=sex, nat=nat,
        place_c=scalars["place_c"], place_s=scalars["place_s"], place_bloom=place_bloom,
        place_pop=popcount(place_bloom).sum(axis=-1, dtype=np.int32),
        street=scalars["street"], postcode=scalars["postcode"], azr=scalars["azr"], azr_nb=azr_nb, azr_auth=azr_auth,
        jobcenter=scalars["jobcenter"], household=scalars["household"],
    )


def _bloom_words(bits: int) -> np.ndarray:
    return np.frombuffer(bits.to_bytes(WORDS * 8, "little"), dtype="<u8")


def _bloom_int(words: np.ndarray) -> int:
    return int.from_bytes(np.ascontiguousarray(words, dtype="<u8").tobytes(), "little")


def _opt(value: np.integer) -> int | None:
    return None if value == NONE else int(value)
