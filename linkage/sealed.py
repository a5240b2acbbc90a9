"""Encodings sealed at rest: AES-GCM with a random nonce per value, padded to hide their length.

Keyed tokens must be equal for equal values, or the hub could not compare them; stored as they
are, that equality lets whoever reads the database count how often each token occurs and, knowing
the population's distribution of names and birth dates, match frequent tokens to frequent values
(the informed insider of the attack suite, ``tests/security``). Sealed, every stored encoding is
fresh random bytes: two records of the same name look no more alike than two of different names,
so the database alone shows no frequencies at all. The hub opens them only in memory, when it
loads the index for linking (``hub_db.sealed_encodings``).

The key is a purpose of the key version (``keyed.derive_key``, purpose ``at-rest``), so it lives in
the key file outside the database, and a key rotation, which re-encodes every record under the
new version, re-seals them too. Whoever holds the key file can also make the keyed tokens of any
name: nothing about the encoding protects against that holder, who is the hub itself.

What a ciphertext still shows is its length. The plaintext is padded (ISO/IEC 7816-4: a 0x80
byte, then zeros) to a multiple of a block and at least a floor, both set per form of the
encoding so that nearly every record seals to the same length: the binary form
(``linkage.encoding_bytes``) to ``PACKED_PAD_BLOCK`` and ``PACKED_PAD_FLOOR`` (measured on the
generated population: 839 bytes median, 983 the largest of 10,864 records; a second spelling of
the name adds about 330), the JSON an earlier release stored to ``PAD_BLOCK`` and
``PAD_FLOOR`` (1.2–2.7 KB measured; at a floor of 2,560 bytes, 5 of 8,732 stood out, and the
attack suite guessed 2 of them). Only encodings beyond the floor (many variant spellings) stand
out, in steps of the block. Associated data binds a sealed value to where it belongs (its row's
source and keyed content hash; a snapshot piece's place), so a value copied elsewhere does not
open.

Formats: a record's encoding is the text ``gcm1:`` + base64(nonce + ciphertext); a piece of the
index snapshot is nonce + ciphertext as bytes, unpadded (a whole column's length says nothing of
any one record). A stored encoding without the prefix is clear JSON from before sealing; it is
read as it is until ``kim-hub init`` seals it. The base64 is written and read by pybase64 (the
standard library's: 11 µs to read a sealed record's 2.1 KB, pybase64's 2 µs; a first link opens a
million of them, and the report and every load of the index open them too).
"""

from __future__ import annotations

import binascii
import os
from functools import lru_cache

import pybase64
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kim_hub.core.errors import FatalError

SEALED_PREFIX = "gcm1:"
NONCE_BYTES = 12
PAD_BLOCK = 512  # JSON encodings (stored by earlier releases, or left clear and sealed by `kim-hub init`)
PAD_FLOOR = 3072  # above the largest JSON encoding measured (2,673 bytes), so nearly all seal alike
PACKED_PAD_BLOCK = 256  # binary encodings (linkage.encoding_bytes)
PACKED_PAD_FLOOR = 1280  # about 30 % above the largest binary encoding measured (983 bytes)
_CONTEXT = b"kim-hub/at-rest/v1\x00"


class SealBrokenError(FatalError, ValueError):
    """A sealed value does not open with this key and place: another key's, altered, or moved."""


def is_sealed(stored: str) -> bool:
    """Is a stored encoding sealed (else it is clear JSON from before sealing)?"""
    return stored.startswith(SEALED_PREFIX)


def encoding_context(source: str, content_hash: str) -> bytes:
    """The associated data of a record's encoding: its row's source and keyed content hash, which
    change only together with the encoding (a new delivery, a key rotation)."""
    return b"encoding\x00" + source.encode("utf-8") + b"\x00" + content_hash.encode("ascii")


def seal_value(key: bytes, plain: bytes, context: bytes) -> str:
    """A record's encoding (binary, or JSON when it starts with ``{``) padded and sealed under
    ``key``, bound to ``context``: a new nonce each time."""
    padded = _pad(plain, *((PAD_FLOOR, PAD_BLOCK) if plain[:1] == b"{" else (PACKED_PAD_FLOOR, PACKED_PAD_BLOCK)))
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, padded, _CONTEXT + context)
    return SEALED_PREFIX + pybase64.b64encode(nonce + sealed).decode("ascii")


def open_value(key: bytes, stored: str, context: bytes) -> bytes:
    """The bytes a sealed value holds; SealBrokenError when it does not open here."""
    try:
        raw = pybase64.b64decode(stored[len(SEALED_PREFIX) :])  # not strict: a stray character fails the tag anyway
        plain = _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _CONTEXT + context)
    except (binascii.Error, ValueError, InvalidTag):
        raise SealBrokenError("a sealed encoding does not open with its key version") from None
    return _unpad(plain)


def seal_bytes(key: bytes, data: bytes, context: bytes) -> bytes:
    """``data`` sealed under ``key`` and bound to ``context`` (not padded): nonce + ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(key).encrypt(nonce, data, _CONTEXT + context)


def open_bytes(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """The bytes ``seal_bytes`` sealed; SealBrokenError when they do not open here."""
    try:
        return _cipher(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _CONTEXT + context)
    except (ValueError, InvalidTag):
        raise SealBrokenError("a sealed piece does not open with its key version") from None


@lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    """One cipher object per key (the process holds the key anyway): making it costs about a
    tenth of opening a record's encoding, and a first link opens a million of them."""
    return AESGCM(key)


def padded_length(size: int, floor: int = PAD_FLOOR, block: int = PAD_BLOCK) -> int:
    """The length ``size`` plaintext bytes are padded to (the marker byte included)."""
    return max(floor, -(-(size + 1) // block) * block)


def _pad(plain: bytes, floor: int, block: int) -> bytes:
    return plain + b"\x80" + b"\x00" * (padded_length(len(plain), floor, block) - len(plain) - 1)


def _unpad(padded: bytes) -> bytes:
    # the zeros after the marker counted, not stripped: ``strip`` with an argument tests each byte
    # against the set (this took 1.65 µs for a record's 440 bytes of padding, counted 0.48 µs)
    end = padded.rfind(b"\x80")
    if end < 0 or padded.count(0, end + 1) != len(padded) - end - 1:
        raise SealBrokenError("a sealed encoding has no padding marker")
    return padded[:end]
