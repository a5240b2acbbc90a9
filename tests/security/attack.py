"""Frequency and Bloom-filter attacks on the key-less tokens (issues #8 and #23), as a measurement.

The attacker holds the encodings themselves, keyed tokens and Bloom filters, but not the key: the
encodings as the hub holds them in memory, and as a release before sealing stored them in the
database. The database of this release holds them only sealed (``linkage.sealed``); what an
insider with the database learns is measured by ``tests.security.insider``, and these figures are
the comparison: what sealing keeps from them. They know the encoding
algorithm (Kerckhoffs) and the *distribution* of names and birth dates: either a "public
frequency list" taken from another synthetic population (another seed) or, the informed insider
of issue #23, the exact distribution of the population itself (``run_attack(victims, victims, …)``).
Attacks:

* token ranks: deterministic keyed tokens (canonical name tokens, birth-date tokens) sorted by
  frequency and matched rank by rank to the plaintexts of the list (ties broken without the truth);
* Bloom-filter pattern mining (Christen et al. 2017/2018): the most frequent family-name filters
  are aligned with names (by rank, or told by an oracle: ``oracle_alignment``); a bigram's bits
  are read off the aligned filters of the names that hold it, by two miners: the AND of those
  filters, and the bits set in all of them but in few of the other aligned filters (a correlation
  miner, which AND-noise from XOR-ed bits does not stop); every other filter is decoded to the
  bigrams whose bits it holds and matched to the list's names;
* similarity profiles (a graph-matching attack in the manner of Vidanage et al. 2019): each
  unaligned filter's similarity to the aligned ones, computed as the hub computes it
  (``keyed.bloom_similarity``), is matched to each listed name's bigram similarity to the aligned
  names. Any encoding the hub can compare leaks this much: it bounds what hardening can reach.

A record counts as re-identified when every name part of its main name *and* its birth date are
recovered correctly. A family name counts as *decoded* only where its filter was not aligned:
what the attacker learnt beyond what the alignment told. ``python -m tests.security.attack``
prints the figures.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.encode import RecordEncoding, _joined_canonical, _name_part_tokens, encode_identity
from kim_hub.linkage.keyed import (
    BLOOM_BITS,
    BLOOM_HASHES,
    DIFFUSED_BLOOM,
    PLAIN_BLOOM,
    EncodingKeys,
    _bloom_positions,
    _diffusion_masks,
    bigrams,
    bloom_similarity,
    diffuse,
)
from kim_hub.linkage.normalise import canonical, variant_group
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.synth import generate

TOP_FILTERS = 60  # Bloom filters of the most frequent names aligned
MINERS = ("and", "correlation")


@dataclass(frozen=True)
class Clear:
    """What the attacker wants back: plaintexts as the encoder saw them."""

    family: tuple[str, ...]
    given: tuple[str, ...]
    family_joined: str
    date: tuple[int, int | None, int | None] | None


@dataclass(frozen=True)
class AttackResult:
    records: int
    reidentified: int
    name_tokens: int
    name_tokens_recovered: int
    dates_recovered: int
    full_names_recovered: int
    bloom_bigrams_inferred: int  # by the miner that decoded most
    bloom_bigrams_correct: int
    bloom_unaligned: int  # records whose family-name filter was not aligned
    bloom_family_decoded: int  # of those, decoded correctly by the better miner (judged by the truth: the worst case)
    profile_family_decoded: int  # of those, matched correctly by their similarity profile

    @property
    def reidentification_rate(self) -> float:
        return self.reidentified / self.records

    @property
    def token_recovery_rate(self) -> float:
        return self.name_tokens_recovered / self.name_tokens

    @property
    def bloom_decoding_rate(self) -> float:
        return self.bloom_family_decoded / max(self.bloom_unaligned, 1)

    @property
    def profile_decoding_rate(self) -> float:
        return self.profile_family_decoded / max(self.bloom_unaligned, 1)

    def describe(self) -> str:
        return (
            f"records {self.records}: re-identified (full name + birth date) {self.reidentified} "
            f"= {self.reidentification_rate:.2%}; name tokens recovered {self.name_tokens_recovered}/{self.name_tokens} "
            f"= {self.token_recovery_rate:.2%}; full names {self.full_names_recovered / self.records:.2%}; "
            f"birth dates {self.dates_recovered / self.records:.2%}; Bloom: bigram bits inferred "
            f"{self.bloom_bigrams_inferred} (correct {self.bloom_bigrams_correct}), family names decoded beyond the "
            f"{self.records - self.bloom_unaligned} aligned records {self.bloom_decoding_rate:.2%}, by similarity "
            f"profile {self.profile_decoding_rate:.2%}"
        )


def clear_of(summary: CaseSummary) -> Clear:
    name = summary.identity.name
    family = _name_part_tokens(name.family_name)
    given = _name_part_tokens(name.given_names)
    date = summary.identity.birth_date
    return Clear(
        family=tuple(variant_group(canonical(t)) for t in family),
        given=tuple(variant_group(canonical(t)) for t in given),
        family_joined=_joined_canonical(family),
        date=(date.year, date.month, date.day) if date else None,
    )


def population(persons: int, seed: int, source: str = "abh") -> list[CaseSummary]:
    """One source's export of a synthetic population, read and mapped by the hub's own code."""
    with tempfile.TemporaryDirectory() as scratch:
        summary = generate(Path(scratch), persons, seed=seed, workers=1)
        batch = ProviderCsvConnector.read_file(summary.files[source])
    mapped = [map_provider_row(source, row) for row in batch.rows]
    return [m for m in mapped if isinstance(m, CaseSummary)]


def _rank_match(observed: Counter, public: Counter) -> dict:
    """Most frequent observed value ↔ most frequent public plaintext, and so on down."""
    tokens = sorted(observed, key=lambda t: (-observed[t], t))
    plaintexts = sorted(public, key=lambda p: (-public[p], str(p)))
    return dict(zip(tokens, plaintexts))


def run_attack(
    victims: list[CaseSummary], public: list[CaseSummary], keys: EncodingKeys, oracle_alignment: bool = False
) -> AttackResult:
    """``public`` is the attacker's list (``victims`` itself: the exact distribution);
    ``oracle_alignment``: the Bloom step is told which frequent filter is which name."""
    encodings = [encode_identity(v.identity, keys) for v in victims]
    return attack_encodings(encodings, [clear_of(v) for v in victims], [clear_of(p) for p in public], keys, oracle_alignment)


def attack_encodings(
    encodings: list[RecordEncoding],
    truth: list[Clear],
    reference: list[Clear],
    keys: EncodingKeys | None = None,
    oracle_alignment: bool = False,
) -> AttackResult:
    """The attacks on encodings as the attacker holds them (``truth``: what each one is, to judge
    the guesses; ``keys``: only to judge which inferred bigram bits are right, never used to guess)."""

    # 1. canonical name tokens, family and given separately
    guess: dict[str, dict[int, str]] = {}
    for part in ("family", "given"):
        observed = Counter(c for e in encodings if e.names for c, _s, _p in getattr(e.names[0], part))
        known = Counter(t for r in reference for t in getattr(r, part))
        guess[part] = _rank_match(observed, known)

    # 2. birth dates: the most precise token there is, ranked against the public dates
    def date_token(e: RecordEncoding) -> tuple[str, int] | None:
        d = e.birth_date
        if d is None:
            return None
        return ("ymd", d.ymd) if d.ymd else ("ym", d.ym) if d.ym else ("y", d.year)  # type: ignore[return-value]

    date_guess: dict[str, dict[int, tuple]] = {}
    for kind in ("ymd", "ym", "y"):
        observed = Counter(t[1] for e in encodings if (t := date_token(e)) and t[0] == kind)
        precision = {"ymd": 3, "ym": 2, "y": 1}[kind]
        known = Counter(r.date for r in reference if r.date and sum(x is not None for x in r.date) == precision)
        date_guess[kind] = _rank_match(observed, known)

    # 3. Bloom filters of family names
    oracle = {e.names[0].family_bloom: t.family_joined for e, t in zip(encodings, truth) if e.names} if oracle_alignment else None
    bloom = _bloom_attack(encodings, reference, keys, oracle)

    tokens = recovered = dates_ok = names_ok = reidentified = unaligned = profiled = 0
    decoded = dict.fromkeys(MINERS, 0)
    for e, t in zip(encodings, truth):
        if not e.names:
            continue
        name_ok = True
        for part in ("family", "given"):
            for (c, _s, _p), plain in zip(getattr(e.names[0], part), getattr(t, part)):
                tokens += 1
                hit = guess[part].get(c) == plain
                recovered += hit
                name_ok &= hit
        token = date_token(e)
        date_ok = token is not None and date_guess[token[0]].get(token[1]) == t.date
        dates_ok += date_ok
        names_ok += name_ok
        reidentified += name_ok and date_ok
        f = e.names[0].family_bloom
        if t.family_joined and f not in bloom.aligned:
            unaligned += 1
            for miner in MINERS:
                decoded[miner] += bloom.decoded[miner].get(f) == t.family_joined
            profiled += bloom.profiled.get(f) == t.family_joined
    better = max(MINERS, key=lambda miner: decoded[miner])
    inferred, correct = bloom.inferred[better]
    return AttackResult(
        len(encodings),
        reidentified,
        tokens,
        recovered,
        dates_ok,
        names_ok,
        inferred,
        correct,
        unaligned,
        decoded[better],
        profiled,
    )


@dataclass
class _BloomOutcome:
    aligned: set[int]  # the filters the alignment named
    decoded: dict[str, dict[int, str]]  # per miner: filter → name
    profiled: dict[int, str]  # filter → name, by similarity profile
    inferred: dict[str, tuple[int, int]]  # per miner: bigrams whose bits it inferred, and how many of them right


def _bloom_attack(
    encodings: list[RecordEncoding], reference: list[Clear], keys: EncodingKeys | None, oracle: dict[int, str] | None = None
) -> _BloomOutcome:
    """Align frequent filters with frequent names, infer bigram bits, decode every other filter."""
    bits_of = {n.family_bloom: n.family_bloom_bits for e in encodings if e.names for n in e.names[:1]}
    observed = Counter(e.names[0].family_bloom for e in encodings if e.names and e.names[0].family_bloom)
    known = Counter(r.family_joined for r in reference if r.family_joined)
    if oracle is None:
        aligned = list(_rank_match(observed, known).items())[:TOP_FILTERS]
    else:
        aligned = [(f, oracle[f]) for f, _n in observed.most_common(TOP_FILTERS)]
    decoded: dict[str, dict[int, str]] = {}
    inferred: dict[str, tuple[int, int]] = {}
    for miner in MINERS:
        positions = _mine(aligned, miner)
        decoded[miner] = _decode(positions, observed, known)
        # right: bits that are all the bigram's own (as stored), at least half as many as it sets
        right = (
            0
            if keys is None
            else sum(
                _bigram_bits(keys, g) & bits == bits and bits.bit_count() >= BLOOM_HASHES // 2 for g, bits in positions.items()
            )
        )
        inferred[miner] = (len(positions), right)
    profiled = _profile_match(aligned, [f for f in observed if f not in dict(aligned)], bits_of, known)
    return _BloomOutcome({f for f, _n in aligned}, decoded, profiled, inferred)


def _bigram_bits(keys: EncodingKeys, gram: str) -> int:
    """The bits one bigram contributes, as stored: its positions, diffused under scheme 2."""
    positions = _bloom_positions(keys.keys["bloom"], gram)
    if keys.scheme == PLAIN_BLOOM:
        return positions
    return diffuse(positions, _diffusion_masks(keys.keys["diffusion"]))


def _mine(aligned: list[tuple[int, str]], miner: str) -> dict[str, int]:
    """Each bigram's bits as far as the aligned filters tell them (bigrams in at least two names)."""
    grams_of = [set(bigrams(name)) for _f, name in aligned]
    matrix = np.unpackbits(
        np.array([list(f.to_bytes(BLOOM_BITS // 8, "little")) for f, _n in aligned], dtype=np.uint8), axis=1, bitorder="little"
    ).astype(bool)
    positions: dict[str, int] = {}
    for gram in set().union(*grams_of):
        holders = np.array([gram in grams for grams in grams_of])
        if holders.sum() < 2:
            continue  # one filter says nothing about which of its bits are this bigram's
        in_all = matrix[holders].all(axis=0)
        if miner == "correlation":
            in_all &= matrix[~holders].mean(axis=0) <= 0.15 if (~holders).any() else in_all
        chosen = np.flatnonzero(in_all)
        limit = 2 * BLOOM_HASHES if miner == "and" else 10 * BLOOM_HASHES
        if 0 < len(chosen) <= limit:
            positions[gram] = int(sum(1 << int(j) for j in chosen))
    return positions


def _decode(positions: dict[str, int], observed: Counter, known: Counter) -> dict[int, str]:
    """Bigrams present in each filter, then the public name whose known bigrams fit best."""
    vocabulary = {name: {g for g in bigrams(name) if g in positions} for name in known}
    decoded: dict[int, str] = {}
    for f in observed:
        present = {g for g, bits in positions.items() if bits & f == bits}
        best, best_score = None, 0.0
        for name, grams in vocabulary.items():
            if not grams:
                continue
            score = 2 * len(grams & present) / (len(grams) + len(present)) if present else 0.0
            if score > best_score or (score == best_score and best is not None and known[name] > known[best]):
                best, best_score = name, score
        if best is not None and best_score > 0.8:
            decoded[f] = best
    return decoded


def _profile_match(
    aligned: list[tuple[int, str]], unaligned: list[int], bits_of: dict[int, int | None], known: Counter
) -> dict[int, str]:
    """Each unaligned filter to the listed name whose bigram similarity to the aligned names is
    closest (L1) to the filter's similarity to the aligned filters, as the hub computes it."""
    if not aligned or not unaligned:
        return {}
    names = [n for n in known if n not in {name for _f, name in aligned}]
    observed = np.array([[bloom_similarity(f, bits_of[f], a, bits_of[a]) for a, _n in aligned] for f in unaligned])
    grams = {n: set(bigrams(n)) for n in {*names, *(name for _f, name in aligned)}}
    expected = np.array([[2 * len(grams[n] & grams[m]) / (len(grams[n]) + len(grams[m])) for _f, m in aligned] for n in names])
    nearest = np.abs(observed[:, None, :] - expected[None, :, :]).sum(axis=2).argmin(axis=1)
    return {f: names[j] for f, j in zip(unaligned, nearest)}


def measure(persons: int = 4000, victim_seed: int = 1, public_seed: int = 2) -> AttackResult:
    keys = EncodingKeys.from_master(os.urandom(32), "attack")
    return run_attack(population(persons, victim_seed), population(persons, public_seed), keys)


if __name__ == "__main__":
    victims = population(4000, 1)
    for scheme in (PLAIN_BLOOM, DIFFUSED_BLOOM):
        keys = EncodingKeys.from_master(os.urandom(32), "attack", scheme=scheme)
        print(f"scheme {scheme}")
        print("  public list from another population:", run_attack(victims, population(4000, 2), keys).describe())
        print("  attacker knows the exact distribution:", run_attack(victims, victims, keys).describe())
        print(
            "  exact distribution, Bloom alignment given:", run_attack(victims, victims, keys, oracle_alignment=True).describe()
        )
