"""kim-hub on a benchmark data set: encode with a fresh random key, then ``link_all`` with defaults.

Nothing is tuned per data set: the thresholds are ``Thresholds()`` and the model is learnt from
the records at hand, exactly as ``linkage.link.link_all`` does it for the hub.
"""

from __future__ import annotations

import os
import time

from bench_data import BenchData

from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.link import link_all

NAME = "kim-hub"


def prepare(data: BenchData) -> dict[int, RecordEncoding]:
    """Pseudonymisation: clear identity → keyed encodings (a new random key every run)."""
    keys = EncodingKeys.from_master(os.urandom(32), "bench")
    authoritative = data.azr_authoritative or [False] * len(data.identities)
    return {i: encode_identity(identity, keys, authoritative[i]) for i, identity in enumerate(data.identities)}


def link(encodings: dict[int, RecordEncoding], thresholds: list | None = None) -> dict:
    """The linking step: learn the model, block, compare, score, cluster (``link_all``)."""
    started = time.perf_counter()
    result, _model = link_all(encodings)
    seconds = time.perf_counter() - started
    labels = {r: c for c, members in enumerate(result.clusters) for r in members}
    return {"base_seconds": seconds, "candidates": {"default": (labels, 0.0)}}


def describe() -> dict:
    t = Thresholds()
    return {"thresholds": {"auto": t.auto, "review": t.review}, "model": "learnt per data set by link_all (EM)"}
