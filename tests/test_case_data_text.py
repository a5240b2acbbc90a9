"""Case data made as JSON text in the encode workers is stored exactly as the ORM stores the dict.

The workers send each record's case data as the text ``json.dumps`` makes of it
(``linkage.pseudonymise``), and the bulk insert hands that text to SQLite as it is, or reads it
back for PostgreSQL's driver (``hub_db.bulk_insert.DriverInsert``'s ``json_text``). Either way the
column must hold what it held when the storing process converted the dict itself.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from typing import Any

from sqlalchemy import insert, select, text

from kim_hub.hub_db.bulk_insert import insert_rows
from kim_hub.hub_db.models import SourceRecord, table_of
from kim_hub.linkage.pseudonymise import PseudonymisedRecord, pseudonymise
from kim_hub.mappings.case_summary import CaseData, CaseEvent, CaseSummary, Identity, PersonName
from tests.support.hub import Hub

CASE: dict[str, Any] = {
    "residence_status": "Aufenthaltserlaubnis § 25",  # beyond ASCII: json.dumps escapes it
    "goals": {"sprache": "active", "arbeit": "planned"},
    "referrals": [{"to": "awo", "status": "open"}],
    "consent": {"recipients": ["kim"], "valid_until": None},
    "events": [{"kind": "wegzug", "on": "2026-01-02", "residence_status": None, "rechtskreis": None}],
    "updated_at": "2026-03-01",
    "flag": True,
    "count": 3,
}


def _row(record_id: str, case_data: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "source": "caritas",
        "record_id": record_id,
        "case_data": case_data,
        "encoding": "x",
        "key_id": "k",
        "content_hash": "0",
        "created_at": now,
        "updated_at": now,
    }


def test_json_text_is_stored_as_the_orm_stores_the_dict(hub: Hub) -> None:
    table = table_of(SourceRecord)
    with hub.sessions() as session, session.begin():
        session.execute(insert(table), [_row("by-orm", CASE)])
        insert_rows(session, table, [_row("as-text", json.dumps(CASE))], json_text=("case_data",))
    with hub.engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT record_id, CAST(case_data AS TEXT) FROM source_records")).all())
    assert stored["as-text"] == stored["by-orm"]
    with hub.sessions() as session:
        loaded = dict(session.execute(select(SourceRecord.record_id, SourceRecord.case_data)).all())
    assert loaded["as-text"] == loaded["by-orm"] == CASE


def test_a_record_crosses_to_the_storing_process_whole(keys) -> None:  # noqa: ANN001
    """What the workers pickle is what the storing process reads: the same record; its case data
    the JSON of the summary's case half (without the source and record id its columns hold), and
    the updated date and events, which storing reads, beside it."""
    moved = CaseEvent(kind="wegzug", on=dt.date(2026, 1, 2))
    case = CaseData(source="caritas", record_id="C-1", case_status="active", updated_at=dt.date(2026, 3, 1), events=(moved,))
    record = pseudonymise(CaseSummary(identity=Identity(name=PersonName(family_name="Test")), case=case), keys)
    again = pickle.loads(pickle.dumps(record))
    assert isinstance(again, PseudonymisedRecord) and again == record
    expected = {k: v for k, v in case.model_dump(mode="json").items() if k not in ("source", "record_id")}
    assert json.loads(record.case_json) == expected and record.case_json == json.dumps(expected)
    assert record.updated_at == "2026-03-01"
    assert record.events == ({"kind": "wegzug", "on": "2026-01-02", "residence_status": None, "rechtskreis": None},)


def test_the_content_hash_is_the_keyed_token_of_the_summary_s_canonical_json(keys) -> None:  # noqa: ANN001
    """The content hash, by which an unchanged row is known again and a key rotation compares,
    is the keyed token of ``json.dumps`` of the summary's dump with sorted keys and no spaces, also
    for values beyond ASCII (escaped) and nested ones: the same as every earlier release stored."""
    moved = CaseEvent(kind="wegzug", on=dt.date(2026, 1, 2))
    case = CaseData(source="caritas", record_id="C-1", case_status="active", updated_at=dt.date(2026, 3, 1), events=(moved,))
    name = PersonName(family_name="Öztürk-Şahin", given_names="Zoë Ἀθηνᾶ")
    summary = CaseSummary(identity=Identity(name=name, nationalities=("TUR", "GRC")), case=case)
    canonical = json.dumps(summary.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert "\\u" in canonical  # the letters beyond ASCII were escaped, as json.dumps does by default
    assert pseudonymise(summary, keys).content_hash == format(keys.unique_token("content", canonical), "016x")
