"""The record-id rule: no identifier as a record id, and the ids the hub keeps encrypted marked so.

A record id is stored, exported by ``kim-hub links``, listed for review and used as the name of a
body's outbox files; a source's case number is harmless there, a person's identifier is not
(shared/DOMAIN.md: "an id that is itself an identifier must not be stored or shown in clear").
Every mapping's rows pass ``guarded`` (the ingest wraps each source's mapping in it), so the rule
holds for every row format — provider CSV/XLSX, REST, the job-centre export, a plug-in's — in one
place:

* A record id shaped like an AZR number, a birth date, a tax id or a social insurance number
  (``mappings.identifier_shapes``) refuses the row: the hub cannot attribute it safely, and a
  charity has no basis to use these as keys at all. The rejection names ``record_id`` and the
  kind, never the value.
* The job centre's own references, Kundennummer and BG-Nummer, are the job centre's key to its
  own cases (§ 51a SGB II): taken as a record id only from a source whose record ids the hub
  encrypts (``sealed``: the job-centre connector's default, ``encrypt_record_ids`` in hub.toml),
  refused from any other.
* From such a source every record id is marked (``SEALED_RECORD_ID_PREFIX``) whatever its shape;
  pseudonymisation turns the mark into a deterministic encrypted token (``linkage.record_ids``),
  so the database holds only the token while the hub can still address the source by its own id.

The authority's AZR-derived ids (``KEYED_RECORD_ID_PREFIX``) are already kept only as keyed
tokens; the rule leaves them alone.
"""

from __future__ import annotations

from functools import partial

from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.case_summary import KEYED_RECORD_ID_PREFIX, SEALED_RECORD_ID_PREFIX, CaseSummary
from kim_hub.mappings.identifier_shapes import LOCAL_REFERENCES, IdentifierKind, identifier_kind
from kim_hub.mappings.registry import RowMapper

FIELD = "record_id"
_ARTICLE: dict[IdentifierKind, str] = {
    "AZR number": "an",
    "birth date": "a",
    "tax id": "a",
    "social insurance number": "a",
    "Kundennummer": "a",
    "BG-Nummer": "a",
}


def record_id_refusal(record_id: str, sealed: bool) -> str | None:
    """Why ``record_id`` cannot be a record id (in words safe to show: the kind, never the value),
    or None when it can. ``sealed``: the source's record ids are kept encrypted."""
    if record_id.startswith(SEALED_RECORD_ID_PREFIX):
        return f"starts with {SEALED_RECORD_ID_PREFIX!r}, the hub's own mark for ids it encrypts"
    kind = identifier_kind(record_id)
    if kind is None or (sealed and kind in LOCAL_REFERENCES):
        return None
    looks_like = f"looks like {_ARTICLE[kind]} {kind}"
    if kind in LOCAL_REFERENCES:
        return (
            f"{looks_like}, the job centre's own reference: taken as a record id only from a source whose "
            "record ids the hub encrypts (encrypt_record_ids)"
        )
    return f"{looks_like}: a record id must be the case's own number, never an identifier of the person"


def sealed_record_id(record_id: str) -> str:
    """``record_id`` marked for encryption (pseudonymisation replaces it by the token)."""
    return SEALED_RECORD_ID_PREFIX + record_id


def guarded(mapper: RowMapper, sealed: bool) -> RowMapper:
    """``mapper`` under the record-id rule (see the module docstring); picklable, for the workers."""
    return partial(_guarded, mapper, sealed)


def _guarded(mapper: RowMapper, sealed: bool, source: str, row: RawRow) -> CaseSummary | list[Rejection]:
    result = mapper(source, row)
    if isinstance(result, list):  # refused already: its id's shape is said as well, so one receipt tells all
        raw = row.fields.get(FIELD, "").strip()
        reason = record_id_refusal(raw, sealed) if raw and not any(r.field == FIELD for r in result) else None
        return [*result, Rejection(row.file, row.row_number, FIELD, reason)] if reason else result
    record_id = result.case.record_id
    if record_id.startswith(KEYED_RECORD_ID_PREFIX):
        return result
    if reason := record_id_refusal(record_id, sealed):
        return [Rejection(row.file, row.row_number, FIELD, reason)]
    if not sealed:
        return result
    case = result.case.model_copy(update={"record_id": sealed_record_id(record_id)})
    return result.model_copy(update={"case": case})  # a summary's copy keeps its notes
