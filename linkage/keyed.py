"""Keyed hashing primitives: HMAC tokens and keyed Bloom filters.

The master secret never touches an encoding directly: HKDF derives one key per purpose
(names, dates, identifiers, Bloom filters …), so a leaked encoding of one field type says nothing
about another, and every encoding carries the id of the key version that made it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kim_hub.core.errors import ConfigError
from kim_hub.linkage.record_ids import open_record_id, seal_record_id

PURPOSES = ("name", "date", "identifier", "place", "address", "bloom", "content")
BLOOM_BITS = 1024
BLOOM_HASHES = 6


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

    @classmethod
    def from_master(cls, master: bytes, key_id: str, record_id_key: bytes | None = None) -> EncodingKeys:
        if len(master) < 32:
            raise ValueError("the master key must have at least 32 bytes")
        return cls(key_id, {purpose: derive_key(master, key_id, purpose) for purpose in PURPOSES}, record_id_key)

    def __hash__(self) -> int:  # for the encoding caches: one entry per key set, never shared across keys
        return hash((self.key_id, *sorted(self.keys.items()), self.record_id_key))

    def seal_record_id(self, source: str, record_id: str) -> str:
        """The encrypted token of a record id of ``source`` (deterministic: the same id, the same token)."""
        return seal_record_id(self._record_id_key(), source, record_id)

    def open_record_id(self, source: str, token: str) -> str | None:
        """The record id in a token of ``source`` made with this key version, else None."""
        return open_record_id(self._record_id_key(), source, token)

    def _record_id_key(self) -> bytes:
        if self.record_id_key is None:
            raise ConfigError(f"key version {self.key_id} has no record-id key: run 'kim-hub init' to create it")
        return self.record_id_key

    def token(self, purpose: str, value: str) -> int:
        """A 63-bit keyed token of ``value`` (fits a signed 64-bit integer column); cached, for
        values a population repeats (name parts, dates, places, streets)."""
        return _token(self.keys[purpose], value)

    def unique_token(self, purpose: str, value: str) -> int:
        """``token`` for values that hardly repeat (a row's content, an AZR number and its 23
        digit neighbours): caching them would only push the repeating values out of the cache."""
        return _token.__wrapped__(self.keys[purpose], value)

    def bloom(self, grams: list[str]) -> int:
        """A keyed Bloom filter (as an int bitset) over q-grams; compared by Dice coefficient."""
        bits = 0
        key = self.keys["bloom"]
        for gram in grams:
            bits |= _bloom_positions(key, gram)
        return bits


@lru_cache(maxsize=500_000)
def _token(key: bytes, value: str) -> int:
    digest = hmac.digest(key, value.encode(), "sha256")
    return int.from_bytes(digest[:8], "big") >> 1


@lru_cache(maxsize=200_000)
def _bloom_positions(key: bytes, gram: str) -> int:
    digest = hmac.digest(key, gram.encode(), "sha256")
    first = int.from_bytes(digest[:4], "big")
    step = int.from_bytes(digest[4:8], "big") | 1
    mask = 0
    for i in range(BLOOM_HASHES):
        mask |= 1 << ((first + i * step) % BLOOM_BITS)
    return mask


def forget_cached_tokens() -> None:
    """Empty the token and Bloom caches (their keys include the secret key bytes)."""
    _token.cache_clear()
    _bloom_positions.cache_clear()


def bigrams(text: str) -> list[str]:
    """Padded bigrams: the usual q-grams for Bloom-filter name encodings (Schnell et al.)."""
    if not text:
        return []
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def dice(a: int, b: int) -> float:
    """Dice coefficient of two Bloom filters."""
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0
