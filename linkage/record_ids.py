"""Record ids kept under deterministic authenticated encryption (AES-SIV, RFC 5297).

The job centre's record id is its Kundennummer, an identifier of the person. The hub must still
address summaries and notices to the job centre by that id, so a one-way token (as for the
authority's AZR-derived ids) will not do; and it must find the record again when the next export
names the same id, and when an operator erases it by the id, so the encryption must be
deterministic. AES-SIV is both: the same id under the same key always gives the same token (so
it stays a unique key of the database and a stable outbox file name), and the token can be
opened only with the key. Its synthetic IV also authenticates: a token altered, made for another
source or under another key does not open, so nothing else is ever mistaken for one
(``open_record_id`` returns None).

The source's name is bound in as associated data: the same Kundennummer held by two sources gives
two unrelated tokens, so tokens cannot be joined across sources. What a deterministic scheme
reveals is equality (two equal tokens are one id), which the record id shows anyway.

Token: ``siv-`` + URL-safe base64 without padding. The characters are safe in a file name on any
file system a body's outbox may live on (a colon is not, on a Windows share), in a CSV cell and in
a URL. A 10-character Kundennummer becomes a 39-character token.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

TOKEN_PREFIX = "siv-"
KEY_BYTES = 64  # AES-256-SIV: two 256-bit keys (one for the synthetic IV, one for the cipher)
_CONTEXT = b"kim-hub/record-id/v1"


def seal_record_id(key: bytes, source: str, record_id: str) -> str:
    """The token of ``record_id`` of ``source``: the same for the same id, source and key."""
    sealed = AESSIV(key).encrypt(record_id.encode("utf-8"), [_CONTEXT, source.encode("utf-8")])
    return TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def open_record_id(key: bytes, source: str, token: str) -> str | None:
    """The record id a token of ``source`` holds, or None when ``token`` is not one made with
    this key for this source (a clear id, another source's token, an old key's)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    body = token[len(TOKEN_PREFIX) :]
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESSIV(key).decrypt(sealed, [_CONTEXT, source.encode("utf-8")]).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag):  # not base64, too short, or not ours
        return None


def is_token(value: str) -> bool:
    """Does ``value`` have the form of a token (not: was it made with a given key)?"""
    return value.startswith(TOKEN_PREFIX)
