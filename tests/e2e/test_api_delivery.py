"""Deliveries over HTTP end to end: `kim-hub web` served by uvicorn, the body's software played by
``requests``. A CSV file and a JSON batch of the same synthetic records, delivered over the API,
store the same records as the same CSV file dropped into the inbox and taken by a sync; another
body's token reaches nothing; an oversized request is refused before anything is stored. A body
delivering and collecting over HTTP ends with the links and summaries a body using folders gets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from kim_hub.hub_db.models import AuditEntry, IngestFile, SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.pipeline.api_tokens import issue_token
from tests.support import Hub, sqlite_url
from tests.support.data import TODAY, exchange_csv, person_at
from tests.support.files import csv_text
from tests.support.scenarios import collecting, outbox_documents, without_time
from tests.support.servers import serving_web

pytestmark = pytest.mark.e2e

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,postcode,case_status,consent_recipients,updated_at\n"
ROWS = [
    "E-1,Haddad,Samira,1988-03-14,F,SYR,51373,active,kim,2026-11-01",
    "E-2,Testova,Marta,1975-11-02,F,UKR,51375,intake,,2026-11-02",
    "E-3,Quux,Yara,31.02.1990,F,XYZ,5137,active,kim|nobody,2026-11-03",  # flawed: noted, still taken
    ",Zed,Omar,1992-02-06,M,SYR,51373,active,,2026-11-04",  # no record id: rejected by row
]
RECORDS = [
    {
        "record_id": "E-1",
        "family_name": "Haddad",
        "given_names": "Samira",
        "birth_date": "1988-03-14",
        "sex": "F",
        "nationality": "SYR",
        "postcode": "51373",
        "case_status": "active",
        "consent_recipients": ["kim"],
        "updated_at": "2026-11-01T10:00:00+01:00",
    },
    {
        "record_id": "E-2",
        "family_name": "Testova",
        "given_names": "Marta",
        "birth_date": "1975-11-02",
        "sex": "F",
        "nationality": "UKR",
        "postcode": "51375",
        "case_status": "intake",
        "consent_recipients": None,
        "updated_at": "2026-11-02T10:00:00+01:00",
    },
    {
        "record_id": "E-3",
        "family_name": "Quux",
        "given_names": "Yara",
        "birth_date": "31.02.1990",
        "sex": "F",
        "nationality": "XYZ",
        "postcode": "5137",
        "case_status": "active",
        "consent_recipients": ["kim", "nobody"],
        "updated_at": "2026-11-03T10:00:00+01:00",
    },
    {"record_id": "", "family_name": "Zed", "given_names": "Omar", "updated_at": "2026-11-04T10:00:00+01:00"},
]


def stored(hub: Hub) -> list[tuple[str, object, str, str]]:
    """What the hub holds of the source's records: id, case data, keyed encodings (opened: sealed
    with a fresh nonce, they differ between any two stores), content hash."""
    with hub.sessions() as session:
        rows = session.execute(select(SourceRecord).where(SourceRecord.source == "caritas").order_by(SourceRecord.record_id))
        opened = keyring_of(session).open
        return [
            (r.record_id, r.case_data, opened(r.encoding, r.key_id, r.source, r.content_hash), r.content_hash)
            for r in rows.scalars()
        ]


@pytest.fixture
def homes(tmp_path: Path):
    made = {name: Hub.create(tmp_path / name, sqlite_url(tmp_path / f"{name}.db")) for name in ("dropped", "api")}
    yield made
    for hub in made.values():
        hub.close()


def test_a_csv_file_and_a_json_batch_over_http_store_what_the_dropped_file_stores(homes: dict[str, Hub]) -> None:
    dropped, api = homes["dropped"], homes["api"]
    dropped.drop("caritas", "export.csv", csv_text(ROWS, HEADER))
    dropped.ingest("caritas")
    expected = stored(dropped)
    assert [r[0] for r in expected] == ["E-1", "E-2", "E-3"]
    by_drop = dropped.receipt("caritas", "export.csv")

    token = issue_token(api.home, "caritas", ["deliver", "receipts"], dt.timedelta(days=1))[0]
    other = issue_token(api.home, "awo", ["deliver", "receipts"], dt.timedelta(days=1))[0]
    with serving_web(api.home) as base, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        url = f"{base}/api/v1/sources/caritas/deliveries"
        as_file = http.post(url, files={"file": ("export.csv", csv_text(ROWS, HEADER).encode("utf-8"), "text/csv")}, timeout=30)
        assert as_file.status_code == 200, as_file.text
        assert stored(api) == expected
        as_batch = http.post(url, json={"records": RECORDS}, timeout=30)
        assert as_batch.status_code == 200, as_batch.text
        assert stored(api) == expected  # the batch brought the same records: nothing changed
        for receipt in (as_file.json(), by_drop):
            assert (receipt["rows_total"], receipt["accepted"], receipt["rejected"]) == (4, 3, 1)
        assert (as_batch.json()["rows_total"], as_batch.json()["unchanged"], as_batch.json()["rejected"]) == (4, 3, 1)
        assert [(r["row"], r["field"]) for r in as_file.json()["rejections"]] == [(5, "record_id")]  # CSV line 5
        assert [(r["row"], r["field"]) for r in as_batch.json()["rejections"]] == [(4, "record_id")]  # the 4th record
        noted = {(n["row"] - 1, n["field"]) for n in as_file.json()["notes"]}  # CSV line n+1 is record n
        assert noted == {(n["row"], n["field"]) for n in as_batch.json()["notes"]} and noted

        foreign = requests.post(url, json={"records": RECORDS}, headers={"Authorization": f"Bearer {other}"}, timeout=30)
        assert (foreign.status_code, foreign.json()) == (404, {"detail": "Not Found"})
        listed = http.get(f"{base}/api/v1/sources/caritas/receipts", timeout=30).json()["receipts"]
        assert {r["id"] for r in listed} == {as_file.json()["id"], as_batch.json()["id"]}

        api.config = api.config.model_copy(update={"api": api.config.api.model_copy(update={"max_request_bytes": 1024})})
        api.home.save_config(api.config)
        oversized = http.post(
            url, files={"file": ("big.csv", csv_text(ROWS * 20, HEADER).encode("utf-8"), "text/csv")}, timeout=30
        )
        assert oversized.status_code == 413
    with api.sessions() as session:
        assert len(session.execute(select(IngestFile.id)).all()) == 2


def clusters(hub: Hub) -> set[frozenset[tuple[str, str]]]:
    """The persons the hub linked, as sets of (source, record id): comparable across homes,
    whose pseudonyms differ (their keys do)."""
    people: dict[str, set[tuple[str, str]]] = {}
    for record, person in hub.pseudonyms().items():
        people.setdefault(person or repr(record), set()).add(record)
    return {frozenset(records) for records in people.values()}


def test_a_body_delivering_and_collecting_over_http_ends_with_the_links_and_summaries_of_folders(
    homes: dict[str, Hub],
) -> None:
    dropped, api = homes["dropped"], collecting(homes["api"], "caritas")
    caritas_rows = exchange_csv(person_at("C-1"))
    for hub in (dropped, api):
        hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    dropped.drop("caritas", "c.csv", caritas_rows)
    dropped.sync()
    dropped.push(TODAY)

    token = issue_token(api.home, "caritas", ["deliver", "collect"], dt.timedelta(days=1))[0]
    with serving_web(api.home) as base, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        delivered = http.post(
            f"{base}/api/v1/sources/caritas/deliveries", files={"file": ("c.csv", caritas_rows.encode(), "text/csv")}, timeout=30
        )
        assert delivered.status_code == 200, delivered.text
        api.sync()  # the next sync links the delivery with the job centre's dropped file
        assert clusters(api) == clusters(dropped) and len(clusters(api)) == 1
        api.push(TODAY)
        page = http.get(f"{base}/api/v1/bodies/caritas/summaries", timeout=30).json()
        assert [without_time(d["document"]) for d in page["documents"]] == [
            without_time(d) for d in outbox_documents(dropped, "caritas")
        ]
        ids = [d["id"] for d in page["documents"]]
        taken = http.post(f"{base}/api/v1/bodies/caritas/acknowledgements", json={"ids": ids}, timeout=30)
        assert taken.json()["acknowledged"] == 1
    with api.sessions() as session:
        transfers = session.execute(select(AuditEntry).where(AuditEntry.action == "transfer.summary")).scalars().all()
    assert [t.actor.split(":")[:2] for t in transfers if "caritas" in t.actor] == [["api", "caritas"]]
