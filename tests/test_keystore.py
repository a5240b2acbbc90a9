import hmac
import os
import pickle

import pytest

from kim_hub.core.errors import FatalError
from kim_hub.hub_db.keystore import create_key, current_key_id, destroy_key, load_keys, scheme_path
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM, _hmac_pads, _token, forget_cached_tokens, hmac_sha256


def test_key_created_private_and_never_overwritten(tmp_path) -> None:
    path = create_key(tmp_path / "keys")
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    content = path.read_bytes()
    create_key(tmp_path / "keys")
    assert path.read_bytes() == content
    assert current_key_id(tmp_path / "keys") == "k1"


def test_same_key_same_encoding_other_key_other_encoding(tmp_path) -> None:
    create_key(tmp_path / "a")
    create_key(tmp_path / "b")
    a1, a2, b = load_keys(tmp_path / "a"), load_keys(tmp_path / "a"), load_keys(tmp_path / "b")
    assert a1.token("name", "c:hadad") == a2.token("name", "c:hadad")
    assert a1.token("name", "c:hadad") != b.token("name", "c:hadad")
    assert a1.token("name", "c:hadad") != a1.token("date", "c:hadad")  # per-purpose keys


def test_refuses_a_world_readable_key(tmp_path) -> None:
    path = create_key(tmp_path / "keys")
    os.chmod(path, 0o644)
    with pytest.raises(FatalError, match="chmod 600"):
        load_keys(tmp_path / "keys")


def test_a_unique_token_equals_the_cached_one_and_stays_out_of_the_cache(tmp_path) -> None:
    """Stored encodings must not depend on which of the two made them; only the cache differs."""
    create_key(tmp_path / "keys")
    keys = load_keys(tmp_path / "keys")
    forget_cached_tokens()
    unique = keys.unique_token("identifier", "azr~3:012_456789012")
    assert _token.cache_info().currsize == 0
    assert unique == keys.token("identifier", "azr~3:012_456789012")
    assert _token.cache_info().currsize == 1


@pytest.mark.parametrize("key_length", [0, 1, 32, 63, 64, 65, 200])
def test_the_hub_s_hmac_is_rfc_2104_hmac_sha256(key_length: int) -> None:
    """The pads hashed once per key must give the very bytes of the standard library's HMAC, for
    keys shorter than, as long as and longer than SHA-256's block (stored tokens depend on it)."""
    key = os.urandom(key_length)
    for message in (b"", b"c:hadad", b"azr~3:012_456789012", os.urandom(300)):
        assert hmac_sha256(key, message) == hmac.digest(key, message, "sha256")
    assert hmac_sha256(key, b"x") == hmac_sha256(key, b"x")  # the kept pads are copied, never extended
    forget_cached_tokens()
    assert _hmac_pads.cache_info().currsize == 0  # derived from the key: dropped with the tokens


def test_a_key_version_names_its_encoding_scheme(tmp_path) -> None:
    """A new key version encodes with the current scheme (diffused Bloom filters); one made before
    the marker existed keeps plain filters; a marker naming no scheme is refused."""
    key_dir = tmp_path / "keys"
    create_key(key_dir)
    assert scheme_path(key_dir, "k1").read_text() == "2\n" and load_keys(key_dir).scheme == DIFFUSED_BLOOM
    create_key(key_dir)  # an existing key keeps its marker (and a missing one stays missing)
    scheme_path(key_dir, "k1").unlink()
    create_key(key_dir)
    assert not scheme_path(key_dir, "k1").exists() and load_keys(key_dir).scheme == PLAIN_BLOOM
    scheme_path(key_dir, "k1").write_text("3\n")
    with pytest.raises(FatalError, match="no known encoding scheme"):
        load_keys(key_dir)
    destroy_key(key_dir, "k1")
    assert not scheme_path(key_dir, "k1").exists()


def test_keys_hash_once_and_travel_to_workers_without_their_hash(tmp_path) -> None:
    """The encoding caches hash the keys on every lookup, so the hash is kept; a worker process
    (another hash seed) must compute its own, never use the parent's."""
    create_key(tmp_path / "keys")
    keys = load_keys(tmp_path / "keys")
    assert hash(keys) == hash(load_keys(tmp_path / "keys")) and "_hash" in vars(keys)
    travelled = pickle.loads(pickle.dumps(keys))
    assert "_hash" not in vars(travelled) and travelled == keys and hash(travelled) == hash(keys)
