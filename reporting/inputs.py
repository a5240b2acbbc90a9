"""What a published report was made from, as one digest: so a sync that changed nothing leaves it be.

The report (``reporting.model.build_report``) is a function of the home's facts (``HubFacts``),
the run it reports on, its language and its schema; its time stamp says when it was made. Two
reports of equal inputs differ only in that time stamp and in their "changes since the previous
run", which a report left in place keeps as they were. ``inputs_digest`` hashes those inputs and
the day (UTC) the report is made for, so a report is made again when any fact changes (a
delivery, a link, a review decision, an erasure, a record's district label), when a run did
something or failed (its summary differs from the run before's), when the language or the
schema changes, and at least once a day. A sync that found nothing new (``found_nothing``:
no delivery, no link, nothing sent, nothing failed) is no reason on its own: its report stays
when the facts, language, schema and day are those of the report in place, whatever run that
report was made for. Pure: no database, no files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from kim_hub.reporting.facts import HubFacts
from kim_hub.reporting.model import SCHEMA_VERSION


def inputs_digest(facts: HubFacts, run: Mapping[str, Any] | None, lang: str, day: dt.date) -> str:
    """SHA-256 over the report's inputs in a form that is the same in every process (sets sorted,
    mappings by key), fed a piece of facts at a time so a big index is never one string."""
    return inputs_digests(facts, (run,), lang, day)[0]


def inputs_digests(facts: HubFacts, runs: Sequence[Mapping[str, Any] | None], lang: str, day: dt.date) -> list[str]:
    """``inputs_digest`` of the same facts for each of ``runs``, the facts read once: a sync's
    report step needs the digest with its run and the one without (what a sync that found
    nothing new compares), and the facts' pass is nearly all of the cost."""
    digests = [hashlib.sha256(repr((SCHEMA_VERSION, lang, day.isoformat(), _plain(run))).encode()) for run in runs]
    for field in dataclasses.fields(facts):
        value = getattr(facts, field.name)
        pieces = _pieces(value) if isinstance(value, tuple) else (repr(_plain(value)).encode(),)
        name = field.name.encode()
        for digest in digests:
            digest.update(name)
        for piece in pieces:
            for digest in digests:
                digest.update(piece)
    return [digest.hexdigest() for digest in digests]


PIECE = 2_048  # facts written as one JSON text (the digest is fed piece by piece, never one big string)


def _pieces(items: tuple[Any, ...]) -> Iterator[bytes]:
    """The facts of a tuple (a record's facts, a delivery's …) as JSON texts of ``PIECE`` facts each.

    orjson writes a dataclass field by field, a date as ISO text, an enumeration as its value,
    in one call per piece: 216,979 records' facts in 0.7 s, where taking each apart in Python
    (``_plain``) took 3.2–4.0 s (benchmarks/README.md). A set has no order of its own, so it is
    written sorted (``_sorted``); a piece orjson cannot write (a key that is no text, an integer
    beyond 64 bits) is taken apart by ``_plain`` instead, the same in every process."""
    for start in range(0, len(items), PIECE):
        piece = items[start : start + PIECE]
        try:
            yield orjson.dumps(piece, default=_sorted)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            yield repr(_plain(piece)).encode()


def _sorted(value: Any) -> list[Any]:
    """A set as orjson cannot write it: its members in the order of their repr."""
    if isinstance(value, frozenset | set):
        return sorted(value, key=repr)
    raise TypeError(type(value).__name__)  # orjson turns it into its JSONEncodeError


_LINK_COUNTS = ("records_linked", "persons_created", "persons_merged", "persons_split", "review_items")
_PUSH_COUNTS = ("summaries_sent", "withdrawal_notices", "corrections", "erasure_notices")
_PUSH_PROBLEMS = ("failed", "documents_refused", "documents_taken_back")


def found_nothing(run: Mapping[str, Any] | None) -> bool:
    """Is ``run`` the summary of a sync that found nothing new: no file seen, no record taken in
    or rejected, nothing linked, nothing sent or taken back, no step failed? (Not a run that is
    no sync, such as the retention's, nor no run at all: those are reported as they are.)"""
    if not run or "linking" not in run or "push" not in run:
        return False
    if run.get("failed") or run.get("records_rejected") or run.get("files_rejected") or run.get("files_failed"):
        return False
    for counts in (run.get("sources") or {}).values():
        if any(isinstance(value, int) and value for value in counts.values()):
            return False
    linking, push = run.get("linking") or {}, run.get("push") or {}
    if any(linking.get(key) for key in _LINK_COUNTS):
        return False
    return not any(push.get(key) for key in (*_PUSH_COUNTS, *_PUSH_PROBLEMS))


_SCALARS = frozenset({str, int, float, bool, type(None)})  # exact types: what ``_plain`` keeps as they are
_DATACLASS_FIELDS: dict[type, tuple[str, ...] | None] = {}  # per type: its fields' names, None for no dataclass


def _plain(value: Any) -> Any:
    """``value`` as nested tuples of plain values whose repr does not depend on the process
    (a frozenset's order does: string hashes are salted per process). Called for every value of
    every record fact: the scalars that most values are return first, a dataclass's field names
    are looked up once per type."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _dataclass_fields(kind)
    if names is not None:
        return (kind.__name__, *[_plain(getattr(value, name)) for name in names])
    if isinstance(value, Mapping):
        return tuple(sorted(((str(k), _plain(v)) for k, v in value.items()), key=lambda item: item[0]))
    if isinstance(value, frozenset | set):
        return tuple(sorted((_plain(v) for v in value), key=repr))
    if isinstance(value, tuple | list):
        return tuple([_plain(v) for v in value])
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (its instances are what ``_plain`` takes apart), else None."""
    try:
        return _DATACLASS_FIELDS[kind]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        _DATACLASS_FIELDS[kind] = names
        return names


__all__ = ["found_nothing", "inputs_digest", "inputs_digests"]
