"""Encoding keys of the tests: one fixed, documented master key, and random ones where that is the point.

Linkage outcomes depend (slightly: through hash collisions and Bloom filter overlaps) on the key.
A test that asserts an outcome must give the same answer on every run, so it uses the fixed test
key: the homes of the ``hub`` fixture and of ``init_home`` are created with it, and
``seeded_keys`` derives encoding keys from it. ``random_keys`` is for the few tests whose point is
that a property holds for *any* key (say so in the test).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from kim_hub.hub_db.keystore import DEFAULT_KEY_ID, key_path, record_id_key_path, set_current, write_scheme
from kim_hub.linkage.keyed import SCHEME, EncodingKeys

TEST_MASTER_KEY: bytes = hashlib.sha256(b"kim-hub tests: the fixed master key, never a production key").digest()
"""32 bytes, derived from a fixed seed text: the master key of every test that asserts an outcome."""

TEST_RECORD_ID_KEY: bytes = hashlib.sha512(b"kim-hub tests: the fixed record-id key, never a production key").digest()
"""64 bytes (AES-256-SIV), the record-id key that goes with ``TEST_MASTER_KEY``: tokens are the same on every run."""


def seeded_keys(key_id: str = "test", scheme: int = SCHEME) -> EncodingKeys:
    """Encoding keys derived from ``TEST_MASTER_KEY`` (different ``key_id``: different keys), with
    ``TEST_RECORD_ID_KEY``; of the current encoding scheme unless told another."""
    return EncodingKeys.from_master(TEST_MASTER_KEY, key_id, TEST_RECORD_ID_KEY, scheme)


def random_keys(key_id: str = "random") -> EncodingKeys:
    """A fresh random key: only for tests whose point is that the outcome does not depend on the key."""
    return EncodingKeys.from_master(os.urandom(32), key_id, os.urandom(64))


def plant_test_key(key_dir: Path, key_id: str = DEFAULT_KEY_ID) -> Path:
    """Put ``TEST_MASTER_KEY`` (and ``TEST_RECORD_ID_KEY``) into a home's key folder as its current
    key version, before the home is created.

    ``initialise`` and ``kim-hub init`` never overwrite an existing key, so the home keeps this one.
    The file is written as the hub writes its keys (folder 0700, file 0600, ``current`` names it,
    ``scheme-<id>`` its encoding scheme, the current one).
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    path = key_path(key_dir, key_id)
    for file, key in ((path, TEST_MASTER_KEY), (record_id_key_path(key_dir, key_id), TEST_RECORD_ID_KEY)):
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(key).decode() + "\n")
    write_scheme(key_dir, key_id, SCHEME)
    set_current(key_dir, key_id)
    return path
