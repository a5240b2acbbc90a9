"""The pseudonymisation step of the data path: CaseSummary in, storable record out.

After this step nothing identifying is left in clear: the identity half of the summary becomes
keyed encodings (``linkage.encode``); the case half is kept as it is; the content hash that
detects changed rows is keyed too, so it cannot be recomputed from a guessed identity. The
encodings are stored sealed (``linkage.sealed``): equal names give equal tokens, but no two stored
encodings look alike. A record id
the mapping marked as identifying becomes a token: a keyed one-way token (``keyed:``, the
authority's AZR-derived ids, which nobody is addressed by) or an encrypted one (``sealed:``, ids
the hub must still address the source by: ``linkage.record_ids``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from kim_hub.core.rows import Note
from kim_hub.linkage.canonical_json import canonical_json
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.encoding_bytes import pack
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.mappings.case_summary import HUB_KEYED_ID, KEYED_RECORD_ID_PREFIX, SEALED_RECORD_ID_PREFIX, CaseSummary


@dataclass(frozen=True)
class PseudonymisedRecord:
    """A record as the hub may keep it: case data in clear, identity only as encodings, sealed
    (``encoding``: ``EncodingKeys.open_encoding`` with ``source`` and ``content_hash`` opens it).

    The case data comes as the JSON text its column stores (``json.dumps`` of the dict, what
    the column's own conversion writes), with the two values storing reads from it beside it:
    a big file's records are made in worker processes, and the storing process, which shares the
    cores with them, spent 10 µs a record unpickling dicts and serialising them again, now 4
    (``benchmarks/handover.py``). ``__reduce__`` sends the fields as a plain tuple for the same reason."""

    source: str
    record_id: str
    case_json: str
    encoding: str
    key_id: str
    content_hash: str
    notes: tuple[Note, ...] = ()  # what the field contract did to the row's values (for its receipt)
    updated_at: str | None = None  # the case data's updated_at (ISO date), or None
    events: tuple[dict[str, Any], ...] = ()  # the case data's events

    @property
    def case_data(self) -> dict[str, Any]:
        """The case data as a dict (parsed from ``case_json`` on each call)."""
        parsed: dict[str, Any] = json.loads(self.case_json)
        return parsed

    def __reduce__(self) -> tuple[type[PseudonymisedRecord], tuple[Any, ...]]:
        # a frozen dataclass pickles its __dict__ and unpickles it through object.__setattr__;
        # the constructor's arguments unpickle faster
        return (PseudonymisedRecord, tuple(getattr(self, name) for name in _FIELDS))


def pseudonymise(summary: CaseSummary, keys: EncodingKeys, azr_authoritative: bool = False) -> PseudonymisedRecord:
    """Encode a summary's identity and drop it (``azr_authoritative``: see encode_identity)."""
    return pseudonymise_many([summary], keys, azr_authoritative)[0]


def pseudonymise_many(
    summaries: Sequence[CaseSummary], keys: EncodingKeys, azr_authoritative: bool = False
) -> list[PseudonymisedRecord]:
    """``pseudonymise`` of each summary, in order, one step at a time over all of them.

    Each step (the dump, the keyed content hash, the case JSON, the encoding, its seal) runs over
    the whole batch before the next begins, instead of every step for one row after the other:
    a step's code and caches (pydantic's serialiser, the token cache, the Bloom positions) then
    stay warm in the processor's caches. A chunk of 2,000 rows, mapped first and then
    pseudonymised so, cost a quarter less than row by row (benchmarks/README.md); the records are
    the same."""
    dumps = [summary.model_dump(mode="json") for summary in summaries]
    content_hashes = [format(keys.unique_token("content", canonical_json(dumped)), "016x") for dumped in dumps]
    # the case half of the dump just made (not a second one), without what the record's columns hold
    cases = [_stored_case(summary, dumped["case"]) for summary, dumped in zip(summaries, dumps, strict=True)]
    case_texts = [json.dumps(case) for case in cases]
    packed = [pack(encode_identity(summary.identity, keys, azr_authoritative)) for summary in summaries]
    return [
        PseudonymisedRecord(
            source=summary.case.source,
            record_id=stored_record_id(summary.case.record_id, keys, summary.case.source),
            case_json=case_text,
            encoding=keys.seal_encoding(encoding, summary.case.source, content_hash),
            key_id=keys.key_id,
            content_hash=content_hash,
            notes=summary.notes,
            updated_at=case["updated_at"],
            events=tuple(case["events"]),
        )
        for summary, content_hash, case, case_text, encoding in zip(
            summaries, content_hashes, cases, case_texts, packed, strict=True
        )
    ]


def _stored_case(summary: CaseSummary, dumped_case: dict[str, Any]) -> dict[str, Any]:
    """The case data as its column keeps it: without the source and record id (columns of their own)."""
    case = {field: value for field, value in dumped_case.items() if field not in ("source", "record_id")}
    if summary.case.record_id.startswith(KEYED_RECORD_ID_PREFIX):
        case[HUB_KEYED_ID] = True  # the source does not know this id: nothing can be addressed to it
    return case


_FIELDS = tuple(field.name for field in fields(PseudonymisedRecord))


def stored_record_id(record_id: str, keys: EncodingKeys, source: str) -> str:
    """The record id as stored: identifying ids become tokens (``keyed:<kind>:<value>`` a keyed
    one-way token, ``sealed:<value>`` the encrypted token of the value for ``source``)."""
    if record_id.startswith(SEALED_RECORD_ID_PREFIX):
        return keys.seal_record_id(source, record_id[len(SEALED_RECORD_ID_PREFIX) :])
    if not record_id.startswith(KEYED_RECORD_ID_PREFIX):
        return record_id
    kind, _, value = record_id[len(KEYED_RECORD_ID_PREFIX) :].partition(":")
    return f"{kind.upper()}-{keys.unique_token('identifier', f'record:{kind}:{value}'):016X}"
