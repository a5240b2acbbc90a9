"""The informed insider attacks what the database stores (issue #23, item 4), as a measurement.

``tests.security.attack`` attacks the encodings as the hub holds them in memory: keyed tokens and
Bloom filters, whose frequencies show. That is what an attacker would face who had the key-less
tokens (the database of a release that stored them in clear, or a memory image without the key
file). This module attacks the database as it lies on disk: a population ingested and linked by
the hub's own code into SQLite, every table then read through plain SQL (``sqlite3``, none of the
hub's code), as whoever holds the database file or a backup of it but not the key folder would.
The attacker knows the exact distribution of names and birth dates (the population itself).

Attacks on what is stored:

* frequencies: every stored value that derives from a record's identity (its sealed encoding, its
  record id, its keyed content hash, the index snapshot's pieces) counted; stored values that
  repeat are rank-matched to the known identities by frequency, as the token attack does (one
  stored once fits every identity seen once alike: matching it would be a random pick);
* lengths: a sealed encoding's length is all of it that shows. The attacker is told the length
  class of every person (the worst case: as if they could compute it) and guesses, per class, the
  identity most frequent in it;
* the review queue: each item's evidence in words and its weights per field (a frequency-adjusted
  weight tells how common the agreeing value is). An upper bound: where a field agrees exactly,
  the attacker learns the exact count of the value in the population and picks among the values
  of that count; elsewhere they guess the most frequent value.

A record counts as re-identified when its main name (family and given) and birth date are guessed
right; a family name counts as decoded only for records outside the 60 most frequent family names
(``attack.TOP_FILTERS``, the alignment the token attack is given), as there. Whoever also holds the
key folder is the hub itself: they can make the keyed tokens of any name, and no encoding protects
against that.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.encoding_bytes import unpack
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.pseudonymise import pseudonymise
from kim_hub.linkage.sealed import is_sealed
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.pipeline.ingest import source_mapper
from kim_hub.pipeline.vocabulary import vocabulary
from kim_hub.synth import generate
from tests.security.attack import TOP_FILTERS, AttackResult, Clear, _rank_match, attack_encodings, clear_of
from tests.support import Hub, sqlite_url

Identity = tuple[tuple[str, ...], tuple[str, ...], tuple[int, int | None, int | None] | None]
_K = TypeVar("_K")


@dataclass(frozen=True)
class StoredAttackResult:
    records: int
    repeated: dict[str, int]  # per stored column: values that occur more than once
    reidentified_by_frequency: int
    length_classes: int
    reidentified_by_length: int
    family_decoded_by_length: int
    unaligned: int  # records whose family name is not among the 60 most frequent
    review_records: int
    reidentified_by_review: float  # expected, an upper bound
    baseline_reidentified: int  # guessing without the database: per source (in clear), its most frequent identity
    baseline_family_decoded: int  # the same for family names outside the 60 most frequent
    clear: AttackResult | None = None  # the token attacks on encodings the database holds in clear (an older release's)

    @property
    def reidentified(self) -> float:
        """What the database adds to guessing without it: the frequency ranking, what the lengths
        tell beyond the source, and the review queue's upper bound, counted together."""
        by_length = max(0, self.reidentified_by_length - self.baseline_reidentified)
        by_tokens = self.clear.reidentified if self.clear else 0
        return self.reidentified_by_frequency + by_length + self.reidentified_by_review + by_tokens

    @property
    def reidentification_rate(self) -> float:
        return self.reidentified / self.records

    @property
    def family_decoding_rate(self) -> float:
        """Family names outside the 60 most frequent guessed right with the lengths' help (the
        guesses without the database included: a bound), or by the token attacks' Bloom-filter
        miners and similarity profiles where encodings are stored in clear."""
        by_length = self.family_decoded_by_length / max(self.unaligned, 1)
        if self.clear is None:
            return by_length
        return max(by_length, self.clear.bloom_decoding_rate, self.clear.profile_decoding_rate)

    def describe(self) -> str:
        return (
            f"records {self.records}: values stored more than once {self.repeated}; re-identified by frequency ranking "
            f"{self.reidentified_by_frequency}, by length ({self.length_classes} classes) {self.reidentified_by_length} "
            f"(without the database, by source: {self.baseline_reidentified}), by the review queue ({self.review_records} "
            f"records, upper bound) {self.reidentified_by_review:.2f}: the database adds {self.reidentified:.1f} = "
            f"{self.reidentification_rate:.3%}; family names outside the {TOP_FILTERS} most frequent guessed by length "
            f"{self.family_decoded_by_length}/{self.unaligned} = {self.family_decoding_rate:.2%} (without the database: "
            f"{self.baseline_family_decoded})"
            + (f"; clear encodings attacked as tokens: {self.clear.describe()}" if self.clear else "")
        )


@dataclass
class StoredPopulation:
    """A population as the hub stored it, and the truth the measurement (never the attacker) uses."""

    database: Path
    truth: dict[tuple[str, str], Clear]  # (source, keyed content hash) → the record's identity
    known: list[Clear]  # the attacker's knowledge: the exact distribution
    keys: EncodingKeys  # the home's, for the controls that play an older release (never the attacker's)


def store_population(workdir: Path, persons: int, seed: int) -> StoredPopulation:
    """Every source's export of a generated population, ingested and linked through the hub's own
    path into a SQLite database under ``workdir``."""
    drops = workdir / "drops"
    summary = generate(drops, persons, seed=seed, workers=1)
    hub = Hub.create(workdir / "home", sqlite_url(workdir / "hub.db"))
    truth: dict[tuple[str, str], Clear] = {}
    try:
        words = vocabulary(hub.home, hub.config)
        for source, path in summary.files.items():
            hub.drop(source, path.name, path.read_bytes())
            settings = hub.config.sources[source]
            mapper = source_mapper(ProviderCsvConnector.row_format, settings, words)  # as the ingest maps it
            for mapped in (mapper(source, row) for row in ProviderCsvConnector.read_file(path).rows):
                if isinstance(mapped, CaseSummary):
                    stored = pseudonymise(mapped, hub.keys, settings.azr_authoritative)
                    truth[(source, stored.content_hash)] = clear_of(mapped)
        hub.ingest_all()
        hub.link()
    finally:
        hub.close()
    return StoredPopulation(workdir / "hub.db", truth, list(truth.values()), hub.keys)


def unseal_as_an_older_release(stored: StoredPopulation) -> None:
    """Write every encoding back as the clear JSON a release before sealing stored (the control
    that shows the attack reads what is stored: given clear encodings it finds their tokens)."""
    db = sqlite3.connect(stored.database)
    try:
        rows = db.execute("SELECT id, source, encoding, content_hash FROM source_records").fetchall()
        opened = [(unpack(stored.keys.open_encoding(text, source, digest)).to_json(), pk) for pk, source, text, digest in rows]
        db.executemany("UPDATE source_records SET encoding = ? WHERE id = ?", opened)
        db.commit()
    finally:
        db.close()


def identity(clear: Clear) -> Identity:
    return (clear.family, clear.given, clear.date)


def attack_database(stored: StoredPopulation) -> StoredAttackResult:
    """What the insider learns from the database file alone (read through SQL)."""
    db = sqlite3.connect(stored.database)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = db.execute("SELECT id, source, record_id, encoding, content_hash FROM source_records ORDER BY id").fetchall()
        pieces = [bytes(p) for (p,) in db.execute("SELECT data FROM index_segments WHERE field != '_meta'")]
        items = db.execute("SELECT record_a, record_b, evidence FROM review_items").fetchall()
    finally:
        db.close()
    truth = {pk: stored.truth[(source, content_hash)] for pk, source, _rid, _enc, content_hash in rows}
    known = Counter(identity(c) for c in stored.known)
    repeated = {
        column: sum(1 for n in Counter(values).values() if n > 1)
        for column, values in (
            ("source_records.encoding", [r[3] for r in rows]),
            ("source_records.record_id", [(r[1], r[2]) for r in rows]),
            ("source_records.content_hash", [r[4] for r in rows]),
            ("index_segments.data", pieces),
        )
    }
    # 1. frequencies: the stored encodings ranked against the known identities; a value stored
    # once is matched to nothing (every identity seen once fits it alike: a pick would be chance)
    seen = Counter(r[3] for r in rows)
    guess = _rank_match(Counter({value: n for value, n in seen.items() if n > 1}), known)
    by_frequency = sum(guess.get(r[3]) == identity(truth[r[0]]) for r in rows)
    # 2. lengths: per (source, length) class, the identity most frequent in it; without the
    # database the attacker can still guess per source (it is in clear), which is the baseline
    classes: dict[tuple[str, int], list[Clear]] = defaultdict(list)
    sources: dict[str, list[Clear]] = defaultdict(list)
    for pk, source, _rid, encoding, _hash in rows:
        classes[(source, len(encoding))].append(truth[pk])
        sources[source].append(truth[pk])
    family_counts = Counter(c.family_joined for c in stored.known if c.family_joined)
    aligned = {name for name, _n in family_counts.most_common(TOP_FILTERS)}

    def identities(groups: dict[_K, list[Clear]]) -> int:
        return sum(_best_guess_hits(identity(c) for c in members) for members in groups.values())

    def families(groups: dict[_K, list[Clear]]) -> int:
        return sum(
            _best_guess_hits(c.family_joined for c in members if c.family_joined not in aligned) for members in groups.values()
        )

    unaligned = sum(1 for c in truth.values() if c.family_joined and c.family_joined not in aligned)
    # 4. encodings stored in clear (an older release's database): the token attacks on them
    clear_rows = [(pk, text) for pk, _s, _r, text, _h in rows if not is_sealed(text)]
    clear = (
        attack_encodings(
            [RecordEncoding.from_json(text) for _pk, text in clear_rows], [truth[pk] for pk, _t in clear_rows], stored.known
        )
        if clear_rows
        else None
    )
    # 3. the review queue: an upper bound from the fields its items show as agreeing exactly
    reviewed: dict[int, float] = {}
    for a, b, evidence_json in items:
        for pk in (a, b):
            reviewed[pk] = max(reviewed.get(pk, 0.0), _review_guess(truth[pk], evidence_json, stored.known))
    return StoredAttackResult(
        len(rows),
        repeated,
        by_frequency,
        len(classes),
        identities(classes),
        families(classes),
        unaligned,
        len(reviewed),
        sum(reviewed.values()),
        identities(sources),
        families(sources),
        clear,
    )


def _best_guess_hits(values: Iterable[object]) -> int:
    """Hits of guessing, for every member of a class, the value most frequent in it."""
    counts = Counter(values)
    return counts.most_common(1)[0][1] if counts else 0


def _review_guess(clear: Clear, evidence_json: str, known: list[Clear]) -> float:
    """The chance that the attacker names ``clear``'s identity from one review item: per field,
    1 / (values of the same count) where the item shows exact agreement, else whether the most
    frequent value is the right one."""
    evidence = json.loads(evidence_json)
    chance = 1.0
    for field, value, values in (
        ("family_name", clear.family, [c.family for c in known]),
        ("given_names", clear.given, [c.given for c in known]),
        ("birth_date", clear.date, [c.date for c in known]),
    ):
        counts = Counter(values)
        if str(evidence.get(field, "")).startswith("same"):
            alike = sum(1 for n in counts.values() if n == counts[value])
            chance *= 1 / alike
        else:
            chance *= float(counts.most_common(1)[0][0] == value)
    return chance


def measure(persons: int = 4000, seed: int = 1) -> StoredAttackResult:
    with tempfile.TemporaryDirectory() as scratch:
        return attack_database(store_population(Path(scratch), persons, seed))


if __name__ == "__main__":
    print("the database as stored:", measure().describe())
