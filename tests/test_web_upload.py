"""The provider's upload page (issue 22, item 6): staff without software of their own upload their
body's export and see its receipt; underneath is the API's delivery, so the file lands as a dropped
or API-delivered file does. Another body's page does not exist; the form needs the session's token;
an oversized upload is refused before it is read; the upload is audited in the staff member's name.
"""

from __future__ import annotations

from sqlalchemy import select

from kim_hub.hub_db.models import AuditEntry, IngestFile, SourceRecord
from kim_hub.pipeline.web_users import add_user
from tests.support import Hub
from tests.support.data import FLAWED, GOOD, HEADER, UNATTRIBUTABLE
from tests.support.files import csv_text
from tests.support.web import PASSWORD, main_of, signed_in, token_of

EXPORT = csv_text([*GOOD, *FLAWED, *UNATTRIBUTABLE], HEADER)


def uploaded(client, source: str = "caritas", content: str = EXPORT, token: str | None = None):  # type: ignore[no-untyped-def]
    token = token_of(client, f"/upload/{source}") if token is None else token
    files = {"file": ("export.csv", content.encode("utf-8"), "text/csv")}
    return client.post(f"/upload/{source}", data={"csrf": token}, files=files)


def stored_ids(hub: Hub) -> list[str]:
    with hub.sessions() as session:
        return sorted(session.execute(select(SourceRecord.record_id).where(SourceRecord.source == "caritas")).scalars())


def test_a_provider_uploads_its_export_and_sees_the_receipt_by_row_and_field(hub: Hub) -> None:
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    client = signed_in(hub, "carla")
    assert 'href="/upload/caritas"' in client.get("/receipts/caritas").text  # in the header
    answer = uploaded(client)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/receipts/caritas/")
    receipt = main_of(client.get(answer.headers["location"]).text)
    assert "record_id" in receipt and "Haddad" not in receipt and "Quux" not in receipt  # rows and fields, no values
    assert stored_ids(hub) == ["C-1", "C-2", "C-3", "C-4", "C-5"]

    twin = hub.path.parent / "twin"  # the same content dropped lands the same records
    dropped = Hub.create(twin, f"sqlite:///{hub.path.parent / 'twin.db'}")
    try:
        dropped.drop("caritas", "export.csv", EXPORT)
        dropped.ingest("caritas")
        assert stored_ids(dropped) == stored_ids(hub)
    finally:
        dropped.close()

    again = uploaded(client)  # the same content: its receipt, nothing stored twice
    assert again.headers["location"] == answer.headers["location"]
    with hub.sessions() as session:
        assert len(session.execute(select(IngestFile.id)).all()) == 1
        ingested = session.execute(select(AuditEntry).where(AuditEntry.channel == "input")).scalars().all()
        uploads = session.execute(select(AuditEntry).where(AuditEntry.action == "web.view")).scalars().all()
    assert {e.actor for e in ingested} == {"web:carla"}
    assert any(e.detail.get("page") == "upload" and e.objects for e in uploads)


def test_another_bodys_upload_page_does_not_exist_and_a_form_without_the_token_is_refused(hub: Hub) -> None:
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    add_user(hub.home, "otto", "operator", PASSWORD)
    carla = signed_in(hub, "carla")
    for path in ("/upload/awo", "/upload/nowhere"):
        assert carla.get(path).status_code == 404
        assert uploaded(carla, "awo", token=token_of(carla, "/upload/caritas")).status_code == 404
    assert signed_in(hub, "otto").get("/upload/caritas").status_code == 404  # not a provider
    assert uploaded(carla, token="forged").status_code == 403
    assert stored_ids(hub) == []


def test_an_upload_above_the_limit_is_refused_before_it_is_read(hub: Hub) -> None:
    add_user(hub.home, "carla", "provider", PASSWORD, organisations=["caritas"])
    hub.config = hub.config.model_copy(update={"api": hub.config.api.model_copy(update={"max_request_bytes": 1024})})
    hub.home.save_config(hub.config)
    client = signed_in(hub, "carla")
    answer = uploaded(client, content=csv_text(GOOD * 40, HEADER))
    assert answer.status_code == 413 and 'id="upload-problem"' in answer.text
    assert stored_ids(hub) == []
