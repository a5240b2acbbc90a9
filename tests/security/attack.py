"""A frequency-analysis attack on the stored encodings (issue #8), as a measurement.

The attacker holds the stored encodings (the database) but not the key. They know the
encoding algorithm (Kerckhoffs) and the *distribution* of names and birth dates — modelled as a
"public frequency list" taken from a different synthetic population (another seed). Attacks:

* token ranks: deterministic keyed tokens (canonical name tokens, birth-date tokens) sorted by
  frequency and matched rank by rank to the public list's plaintexts (ties broken without the
  truth);
* Bloom-filter pattern mining (a simple version of Christen et al. 2017/2018): the most frequent
  family-name filters are aligned by rank with the most frequent public names; the bit
  positions of a bigram are the AND of the filters assigned to names containing it; then every
  filter is decoded to the bigrams whose positions it holds and matched to the public names.

A record counts as re-identified when every name part of its main name *and* its birth date are
recovered correctly. ``python -m tests.security.attack`` prints the figures.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.encode import RecordEncoding, _joined_canonical, _name_part_tokens, encode_identity
from kim_hub.linkage.keyed import BLOOM_HASHES, EncodingKeys, _bloom_positions, bigrams
from kim_hub.linkage.normalise import canonical, variant_group
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.synth import generate

TOP_FILTERS = 60  # Bloom filters of the most frequent names aligned by rank


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
    bloom_bigrams_inferred: int
    bloom_bigrams_correct: int
    bloom_family_recovered: int

    @property
    def reidentification_rate(self) -> float:
        return self.reidentified / self.records

    @property
    def token_recovery_rate(self) -> float:
        return self.name_tokens_recovered / self.name_tokens

    def describe(self) -> str:
        return (
            f"records {self.records}: re-identified (full name + birth date) {self.reidentified} "
            f"= {self.reidentification_rate:.2%}; name tokens recovered {self.name_tokens_recovered}/{self.name_tokens} "
            f"= {self.token_recovery_rate:.2%}; full names {self.full_names_recovered / self.records:.2%}; "
            f"birth dates {self.dates_recovered / self.records:.2%}; Bloom: bigram positions inferred "
            f"{self.bloom_bigrams_inferred} (correct {self.bloom_bigrams_correct}), family names decoded "
            f"{self.bloom_family_recovered / self.records:.2%}"
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
    """``oracle_alignment``: the Bloom step is told which frequent filter is which name (a
    self-test of the pattern mining: it must then infer bigram positions correctly)."""
    encodings = [encode_identity(v.identity, keys) for v in victims]
    truth = [clear_of(v) for v in victims]
    reference = [clear_of(p) for p in public]

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
    bloom_names, inferred, correct = _bloom_attack(encodings, reference, keys, oracle)

    tokens = recovered = dates_ok = names_ok = reidentified = bloom_ok = 0
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
        bloom_ok += bloom_names.get(e.names[0].family_bloom) == t.family_joined and bool(t.family_joined)
    return AttackResult(len(victims), reidentified, tokens, recovered, dates_ok, names_ok, inferred, correct, bloom_ok)


def _bloom_attack(
    encodings: list[RecordEncoding], reference: list[Clear], keys: EncodingKeys, oracle: dict[int, str] | None = None
) -> tuple[dict[int, str], int, int]:
    """Align frequent filters with frequent names, infer bigram positions, decode every filter."""
    observed = Counter(e.names[0].family_bloom for e in encodings if e.names and e.names[0].family_bloom)
    known = Counter(r.family_joined for r in reference if r.family_joined)
    if oracle is None:
        aligned = list(_rank_match(observed, known).items())[:TOP_FILTERS]
    else:
        aligned = [(f, oracle[f]) for f, _n in observed.most_common(TOP_FILTERS)]
    positions: dict[str, int] = {}
    for gram in {g for _f, name in aligned for g in bigrams(name)}:
        holders = [f for f, name in aligned if gram in bigrams(name)]
        if len(holders) < 2:
            continue  # one filter says nothing about which of its bits are this bigram's
        bits = holders[0]
        for f in holders[1:]:
            bits &= f
        if 0 < bits.bit_count() <= 2 * BLOOM_HASHES:
            positions[gram] = bits
    true = {g: _bloom_positions(keys.keys["bloom"], g) for g in positions}
    correct = sum(true[g] & positions[g] == true[g] and positions[g].bit_count() <= BLOOM_HASHES + 1 for g in positions)
    # decode: bigrams present in a filter, then the public name whose known bigrams fit best
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
    return decoded, len(positions), correct


def measure(persons: int = 4000, victim_seed: int = 1, public_seed: int = 2) -> AttackResult:
    keys = EncodingKeys.from_master(os.urandom(32), "attack")
    return run_attack(population(persons, victim_seed), population(persons, public_seed), keys)


if __name__ == "__main__":
    print("public list from another population:", measure().describe())
    keys = EncodingKeys.from_master(os.urandom(32), "attack")
    victims = population(4000, 1)
    print("attacker knows the exact distribution:", run_attack(victims, victims, keys).describe())
    print("Bloom self-test, alignment given:", run_attack(victims, population(4000, 2), keys, oracle_alignment=True).describe())
