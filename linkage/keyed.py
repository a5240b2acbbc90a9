"""Keyed hashing primitives: HMAC tokens and keyed Bloom filters, diffused.

The master secret never touches an encoding directly: HKDF derives one key per purpose
(names, dates, identifiers, Bloom filters …), so a leaked encoding of one field type says nothing
about another, and every encoding carries the id of the key version that made it. One purpose,
``at-rest``, is no token key: it seals what is stored (``linkage.sealed``), since equal tokens
would otherwise show their frequencies to whoever reads the database.

A plain Bloom filter sets the same few bits for a bigram in every name that holds it, so whoever
knows which frequent filter is which name can read each bigram's bits off them (the AND of the
filters of names sharing it) and decode the other filters (Christen et al. 2017/2018; our attack
suite decoded 79–86 % of the other family names so). Scheme 2 stores the filter *diffused*
(Armknecht, Heng and Schnell, PoPETs 2023): a keyed linear map over GF(2), each input bit XOR-ing
a keyed random set of ``DIFFUSION_WEIGHT`` output bits in. A bigram no longer has bits of its own
(its bits toggle with the rest of the name), about 45 % of the output bits are set whatever the
name, yet the Hamming distance of two outputs still estimates that of the two inputs, so the Dice
coefficient the comparison levels need is estimated from it and the inputs' set bits, which are
stored beside the filter (``bloom_similarity``).

The scheme belongs to the key version (``EncodingKeys.scheme``, written beside the key file by
``hub_db.keystore``): a key version made before scheme 2 keeps plain filters until a key rotation
re-encodes every record with a new version, so an index never mixes the two.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kim_hub.core.errors import ConfigError
from kim_hub.linkage.record_ids import open_record_id, seal_record_id
from kim_hub.linkage.sealed import encoding_context, open_bytes, open_value, seal_bytes, seal_value

PURPOSES = ("name", "date", "identifier", "place", "address", "bloom", "content", "diffusion", "at-rest")
BLOOM_BITS = 1024
BLOOM_HASHES = 6
PLAIN_BLOOM = 1  # scheme 1: the Bloom filter as it is (key versions made before scheme 2)
DIFFUSED_BLOOM = 2  # scheme 2: the filter diffused, with its set bits beside it
SCHEME = DIFFUSED_BLOOM  # what a new key version encodes with
# Output bits each input bit toggles. Measured on 4,000 generated family names, the 60 most
# frequent filters aligned (tests/security): the better miner decoded 14 % of the other names at
# 16 (one key), up to 4.6 % at 24 and at most 1.1 % at 28 (20 random keys each). More saturates the
# distance the comparison levels are read from: the Dice level agrees with the plain filter's in
# 97 % of similar name pairs at 16, 93 % at 24, 89 % at 28, 86 % at 32, and recall falls
# (benchmarks/error_analysis.py, FEBRL3 without identifier, false negatives over random keys:
# plain 1015-1023, 28: 1030-1036, 32: 1037, 40: 1088).
DIFFUSION_WEIGHT = 28


def derive_key(master: bytes, key_id: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, bound to the key version."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=key_id.encode(),
        info=f"kim-hub/{purpose}".encode(),
    ).derive(master)


@dataclass(frozen=True)
class EncodingKeys:
    """The per-purpose keys of one key version, and its record-id key.

    ``record_id_key`` encrypts the record ids the hub keeps only encrypted (``linkage.record_ids``).
    It is a key file of its own, not derived from the master key: it encrypts rather than hashes,
    so whoever holds it can read the ids, and a key that does one thing can be handled (and, were
    it ever leaked, judged) on its own. It belongs to the same key version and is rotated with it."""

    key_id: str
    keys: dict[str, bytes] = field(repr=False)
    record_id_key: bytes | None = field(default=None, repr=False)
    scheme: int = SCHEME  # how Bloom filters are stored: PLAIN_BLOOM or DIFFUSED_BLOOM

    @classmethod
    def from_master(cls, master: bytes, key_id: str, record_id_key: bytes | None = None, scheme: int = SCHEME) -> EncodingKeys:
        if len(master) < 32:
            raise ValueError("the master key must have at least 32 bytes")
        if scheme not in (PLAIN_BLOOM, DIFFUSED_BLOOM):
            raise ValueError(f"unknown encoding scheme {scheme}")
        return cls(key_id, {purpose: derive_key(master, key_id, purpose) for purpose in PURPOSES}, record_id_key, scheme)

    def __hash__(self) -> int:  # for the encoding caches: one entry per key set, never shared across keys
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """Computed once: the encoding caches hash the keys with every name part and place they look up."""
        return hash((self.key_id, *sorted(self.keys.items()), self.record_id_key, self.scheme))

    def __getstate__(self) -> dict[str, object]:
        """Pickled (to the encode workers) without the kept hash: another process hashes bytes
        with another seed."""
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state

    def seal_record_id(self, source: str, record_id: str) -> str:
        """The encrypted token of a record id of ``source`` (deterministic: the same id, the same token)."""
        return seal_record_id(self._record_id_key(), source, record_id)

    def open_record_id(self, source: str, token: str) -> str | None:
        """The record id in a token of ``source`` made with this key version, else None."""
        return open_record_id(self._record_id_key(), source, token)

    def seal_encoding(self, plain: bytes, source: str, content_hash: str) -> str:
        """A record's encoding (``linkage.encoding_bytes``; JSON from an earlier release) sealed
        for storage (``linkage.sealed``; purpose ``at-rest``), bound to its row's source and content hash."""
        return seal_value(self.keys["at-rest"], plain, encoding_context(source, content_hash))

    def open_encoding(self, stored: str, source: str, content_hash: str) -> bytes:
        """The encoding a sealed value of this key version holds, binary or JSON
        (``encoding_bytes.as_dict`` reads both; SealBrokenError if it is not one)."""
        return open_value(self.keys["at-rest"], stored, encoding_context(source, content_hash))

    def seal_piece(self, data: bytes, place: bytes) -> bytes:
        """Stored bytes other than one record's (the index snapshot's columns) sealed, bound to ``place``."""
        return seal_bytes(self.keys["at-rest"], data, place)

    def open_piece(self, sealed: bytes, place: bytes) -> bytes:
        """The bytes ``seal_piece`` sealed at ``place`` (SealBrokenError if they do not open)."""
        return open_bytes(self.keys["at-rest"], sealed, place)

    def _record_id_key(self) -> bytes:
        if self.record_id_key is None:
            raise ConfigError(f"key version {self.key_id} has no record-id key: run 'kim-hub init' to create it")
        return self.record_id_key

    def token(self, purpose: str, value: str) -> int:
        """A 63-bit keyed token of ``value`` (fits a signed 64-bit integer column); cached, for
        values a population repeats (name parts, dates, places, streets)."""
        return _token(self.keys[purpose], value)

    def unique_token(self, purpose: str, value: str) -> int:
        """``token`` for values that hardly repeat (a row's content, an AZR number and its 11
        digit neighbours): caching them would only push the repeating values out of the cache."""
        return _token.__wrapped__(self.keys[purpose], value)

    def unique_tokens(self, purpose: str, values: list[str]) -> list[int]:
        """``unique_token`` of each value, in order (the AZR number's 11 digit neighbours at once:
        the key's pads are looked up once, not per value)."""
        inner_pad, outer_pad = _hmac_pads(self.keys[purpose])
        tokens = []
        for value in values:
            inner = inner_pad.copy()
            inner.update(value.encode())
            outer = outer_pad.copy()
            outer.update(inner.digest())
            tokens.append(int.from_bytes(outer.digest()[:8], "big") >> 1)
        return tokens

    def bloom(self, grams: list[str]) -> tuple[int, int | None]:
        """A keyed Bloom filter (as an int bitset) over q-grams, as this key version stores it: plain,
        with None beside it, or diffused, with the plain filter's count of set bits beside it
        (compared by ``bloom_similarity``)."""
        bits = 0
        key = self.keys["bloom"]
        for gram in grams:
            bits |= _bloom_positions(key, gram)
        if self.scheme == PLAIN_BLOOM:
            return bits, None
        return diffuse(bits, _diffusion_masks(self.keys["diffusion"])), bits.bit_count()


@lru_cache(maxsize=500_000)
def _token(key: bytes, value: str) -> int:
    digest = hmac_sha256(key, value.encode())
    return int.from_bytes(digest[:8], "big") >> 1


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` (RFC 2104), the same bytes as ``hmac.digest(key, message, "sha256")``.

    The one-shot ``hmac.digest`` keys a fresh HMAC (and, under OpenSSL 3, looks the digest up by
    name) for every message: 1.9 µs, where copying the key's two hashed pads, made once per key,
    costs 0.5 µs. A row is up to some fifteen uncached tokens (its content, the AZR number and its
    11 digit neighbours, names first seen), so this is about a tenth of pseudonymising it."""
    inner_pad, outer_pad = _hmac_pads(key)
    inner = inner_pad.copy()
    inner.update(message)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.digest()


@lru_cache(maxsize=len(PURPOSES) * 4)  # a process holds a few key versions at most (rotation)
def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states that have absorbed the key XOR the inner and outer pads (secret like the
    key itself: kept only in this process, dropped by ``forget_cached_tokens``)."""
    block = (hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key).ljust(_SHA256_BLOCK, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block))


_SHA256_BLOCK = 64


@lru_cache(maxsize=200_000)
def _bloom_positions(key: bytes, gram: str) -> int:
    digest = hmac_sha256(key, gram.encode())
    first = int.from_bytes(digest[:4], "big")
    step = int.from_bytes(digest[4:8], "big") | 1
    mask = 0
    for i in range(BLOOM_HASHES):
        mask |= 1 << ((first + i * step) % BLOOM_BITS)
    return mask


@lru_cache(maxsize=4)
def _diffusion_masks(key: bytes) -> tuple[int, ...]:
    """Per input bit, the keyed set of ``DIFFUSION_WEIGHT`` output bits it toggles (the columns of
    the diffusion matrix), drawn by a generator seeded from an HMAC of the bit's index."""
    masks = []
    for i in range(BLOOM_BITS):
        draw = random.Random(hmac.digest(key, i.to_bytes(2, "big"), "sha256"))
        mask = 0
        for position in draw.sample(range(BLOOM_BITS), DIFFUSION_WEIGHT):
            mask |= 1 << position
        masks.append(mask)
    return tuple(masks)


def diffuse(bits: int, masks: tuple[int, ...]) -> int:
    """The filter through the diffusion matrix: the XOR of the columns of its set bits."""
    out = 0
    while bits:
        low = bits & -bits
        out ^= masks[low.bit_length() - 1]
        bits ^= low
    return out


def _expected_distance() -> tuple[float, ...]:
    """For each Hamming distance h of two diffused filters, the distance of the plain filters it
    estimates: h = m (1 - (1 - 2w/m)^d) / 2 solved for d (inf where h reaches half the bits)."""
    m, c = BLOOM_BITS, 1 - 2 * DIFFUSION_WEIGHT / BLOOM_BITS
    return tuple(math.log(1 - 2 * h / m) / math.log(c) if 2 * h < m else math.inf for h in range(m + 1))


PLAIN_DISTANCE = _expected_distance()


_one_instance: dict[EncodingKeys, EncodingKeys] = {}
_KEPT_KEYS = 8


def one_instance(keys: EncodingKeys) -> EncodingKeys:
    """The first ``EncodingKeys`` equal to ``keys`` that this process was given.

    The encoding caches look up the keys object with every name part, date and place. A lookup
    whose stored keys are the very same object matches on identity; an equal copy is compared
    field by field, key bytes and all. An encode worker unpickles a copy with every chunk, so
    without this most of its cache hits paid that comparison (at a million records the workers'
    CPU fell 8 % with it, benchmarks/README.md). A process holds a few key versions at most
    (rotation); more than ``_KEPT_KEYS`` (tests make a fresh set each) start the list anew."""
    if len(_one_instance) >= _KEPT_KEYS and keys not in _one_instance:
        _one_instance.clear()
    return _one_instance.setdefault(keys, keys)


def forget_cached_tokens() -> None:
    """Empty the token, Bloom and diffusion caches (their keys include the secret key bytes)."""
    _one_instance.clear()
    _token.cache_clear()
    _hmac_pads.cache_clear()
    _bloom_positions.cache_clear()
    _diffusion_masks.cache_clear()


def bigrams(text: str) -> list[str]:
    """Padded bigrams: the usual q-grams for Bloom-filter name encodings (Schnell et al.)."""
    if not text:
        return []
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def dice(a: int, b: int) -> float:
    """Dice coefficient of two plain Bloom filters."""
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0


def bloom_similarity(a: int, a_bits: int | None, b: int, b_bits: int | None) -> float:
    """The Dice coefficient of two Bloom filters as stored: of plain filters (no set-bit counts
    beside them) exactly; of diffused ones estimated, as 1 - d / (p + q) with the plain filters'
    distance d estimated from the diffused ones' (``PLAIN_DISTANCE``) and their set bits p, q.
    A plain and a diffused filter (two schemes in one index, which a rotation never leaves) say
    nothing of each other: 0."""
    if a_bits is None and b_bits is None:
        return dice(a, b)
    if a_bits is None or b_bits is None or a_bits + b_bits == 0:
        return 0.0
    return max(0.0, 1.0 - PLAIN_DISTANCE[(a ^ b).bit_count()] / (a_bits + b_bits))
