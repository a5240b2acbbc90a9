"""Identifier-shaped record ids (issue 19, item 4): refused when they are another identifier, and
the job centre's Kundennummer kept only as an encrypted token, yet still used to address it.

The shapes are a table of phenomena (mappings.identifier_shapes); the rule is held on deliveries
through the real ingest; the token is looked for everywhere the hub keeps or shows record ids —
the database file's bytes, the links export, the review list, the audit, outbox file names —
while the job centre still receives its summary under its own number and an operator still
erases by that number. A home from before the tokens is upgraded by `kim-hub init`.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.audit_chain import ChainKey
from kim_hub.hub_db.keystore import load_audit_key, load_keys, record_id_key_path
from kim_hub.hub_db.models import AuditEntry, ReviewItem, SourceRecord
from kim_hub.hub_db.review import list_items
from kim_hub.linkage.record_ids import open_record_id, seal_record_id
from kim_hub.mappings.identifier_shapes import SHAPES as KNOWN_SHAPES
from kim_hub.mappings.identifier_shapes import _candidates, _written_date, identifier_kind
from kim_hub.mappings.record_ids import record_id_refusal
from kim_hub.pipeline.audit import verify_log
from kim_hub.pipeline.erasure import erase
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig, default_source, render_config
from kim_hub.pipeline.links import link_rows, write_links_csv
from kim_hub.pipeline.record_ids import seals_record_ids
from kim_hub.pipeline.rotation import rotate_keys
from kim_hub.pipeline.setup import initialise_home
from tests.support import Hub
from tests.support.data import TODAY, exchange_csv, person_at

CUSTOMER_NO = "962D000001"  # Samira's Kundennummer: the job centre's record id


def audit_name(hub: Hub) -> str:
    """How the audit log names the job centre's record: a token (audit key) of the number itself,
    so that neither a new encrypted form nor a rotation renames it."""
    return ChainKey(load_audit_key(hub.home.key_dir(hub.config))).record("jobcenter", CUSTOMER_NO)


def jobcenter_records_in_the_log(hub: Hub) -> set[str]:
    with hub.sessions() as session:
        logged = session.execute(select(AuditEntry.objects, AuditEntry.detail)).all()
    assert CUSTOMER_NO not in json.dumps([list(row) for row in logged])
    return {o for objects, _detail in logged for o in objects if o.startswith("record:jobcenter:")}


# --- the shapes ---------------------------------------------------------------------------------------------

SHAPES = [
    # (value as a sender writes it, the kind it looks like or None)
    ("987654321098", "AZR number"),
    ("9876 5432 1098", "AZR number"),
    ("AZR-987654321098", "AZR number"),  # a label in front
    ("CAR-987654321098", "AZR number"),  # one part of the id
    ("962D104711", "Kundennummer"),
    ("962d 104711", "Kundennummer"),
    ("KD-962D104711", "Kundennummer"),
    ("12345//1234567", "BG-Nummer"),
    ("BG 12345//1234567", "BG-Nummer"),
    ("65170839J003", "social insurance number"),
    ("86095742719", "tax id"),  # one digit (9) twice in the first ten: an IdNr's digit rule
    ("14.03.1988", "birth date"),
    ("1.3.1988", "birth date"),
    ("00.00.1985", "birth date"),  # the registers' unknown day and month
    ("1988-03-14", "birth date"),
    ("14/03/1988", "birth date"),
    ("14.03.88", "birth date"),
    ("1.3.88", "birth date"),  # four digits: the fewest a date is written with
    ("19880314", "birth date"),
    ("14031988", "birth date"),
    ("K-14.03.1988-3", "birth date"),  # a written date anywhere in the id
    # ordinary case numbers pass
    ("C-1", None),
    ("CV-1234567", None),
    ("AWO1234567", None),
    ("DW-12345678", None),  # eight digits that are no date
    ("CAR-2024-00017", None),
    ("CV-12-3-45", None),  # hyphens with a two-digit year: a case number, not a date
    ("2024000000123", None),  # thirteen digits
    ("10000000001", None),  # eleven digits without an IdNr's digit rule
    ("140388", None),  # six digits could be DDMMYY, but every counter would be a date
]


@pytest.mark.parametrize(("value", "kind"), SHAPES)
def test_identifier_shapes(value: str, kind: str | None) -> None:
    assert identifier_kind(value) == kind


def every_shape_tried(value: str) -> str | None:
    """``identifier_kind`` without its shortcut on the count of digits: every candidate against
    every shape, then the written dates."""
    text = value.strip()
    candidates = list(dict.fromkeys(_candidates(text))) if text else []
    for shape in KNOWN_SHAPES:
        for candidate in candidates:
            if (match := shape.pattern.fullmatch(candidate)) and shape.plausible(match):
                return shape.kind
    return "birth date" if text and _written_date(text) else None


# ids built from the pieces the shapes are made of: digit runs (also another script's digit), dates
# written compact and with separators, capitals, labels and separators
ID_PIECES = st.one_of(
    st.text("0123456789", min_size=1, max_size=12),
    st.dates().map(lambda day: day.strftime(FORMATS[day.toordinal() % len(FORMATS)])),
    st.sampled_from(["٣", "A", "D", "J", "x", "ä", "AZR", "KD", " ", "-", ".", "/", "//", ":", "|"]),
)
FORMATS = ["%d%m%Y", "%Y%m%d", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%d"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(ID_PIECES, max_size=6).map("".join))
def test_the_shortcut_on_few_digits_gives_the_same_kind_as_trying_every_shape(value: str) -> None:
    assert identifier_kind(value) == every_shape_tried(value)


@pytest.mark.parametrize(("value", "kind"), SHAPES)
def test_the_examples_hold_without_the_shortcut_too(value: str, kind: str | None) -> None:
    assert every_shape_tried(value) == kind


def test_the_refusal_names_the_kind_never_the_value() -> None:
    for value, kind in SHAPES:
        reason = record_id_refusal(value, sealed=False)
        assert (reason is None) == (kind is None) and (reason is None or (kind in reason and value not in reason))
    assert record_id_refusal("962D104711", sealed=True) is None  # the job centre's own reference, kept encrypted
    assert record_id_refusal("12345//1234567", sealed=True) is None
    assert record_id_refusal("987654321098", sealed=True) is not None  # never an AZR number, encrypted or not
    assert record_id_refusal("sealed:C-1", sealed=False) is not None  # the hub's own mark is not an id


def test_a_token_is_deterministic_opens_only_for_its_source_and_key() -> None:
    key, other = os.urandom(64), os.urandom(64)  # any key: the property must not depend on it
    token = seal_record_id(key, "jobcenter", CUSTOMER_NO)
    assert token == seal_record_id(key, "jobcenter", CUSTOMER_NO) and CUSTOMER_NO not in token
    assert token.startswith("siv-") and all(c.isalnum() or c in "-_" for c in token)  # safe as a file name
    assert open_record_id(key, "jobcenter", token) == CUSTOMER_NO
    assert seal_record_id(key, "caritas", CUSTOMER_NO) != token  # bound to its source: no joining across sources
    assert open_record_id(key, "caritas", token) is None and open_record_id(other, "jobcenter", token) is None
    assert open_record_id(key, "jobcenter", CUSTOMER_NO) is None and open_record_id(key, "jobcenter", "siv-AAAA") is None
    assert open_record_id(key, "jobcenter", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None


# --- the rule at the edge ---------------------------------------------------------------------------------------


IDENTIFIER_ROWS = {  # record id → the kind the receipt must name
    "987654321098": "AZR number",
    "14.03.1988": "birth date",
    "86095742719": "tax id",
    "65170839J003": "social insurance number",
    "962D104711": "Kundennummer",
    "12345//1234567": "BG-Nummer",
}


def test_a_provider_record_id_that_is_an_identifier_is_refused_with_its_kind(hub: Hub) -> None:
    rows = [person_at("C-1"), *(person_at(record_id) for record_id in IDENTIFIER_ROWS)]
    hub.drop("caritas", "c.csv", exchange_csv(*rows))
    outcome = hub.ingest("caritas")

    assert (outcome.records_accepted, outcome.records_rejected) == (1, len(IDENTIFIER_ROWS))
    receipt = hub.receipt("caritas", "c.csv")
    reasons = {r["row"]: r["reason"] for r in receipt["rejections"] if r["field"] == "record_id"}
    assert len(reasons) == len(IDENTIFIER_ROWS)
    for row, kind in enumerate(IDENTIFIER_ROWS.values(), start=3):  # header, C-1, then these
        assert kind in reasons[row]
    text = "".join(p.read_text(encoding="utf-8") for p in hub.home.outbox("caritas", "receipts").iterdir())
    assert not any(record_id in text for record_id in IDENTIFIER_ROWS)
    assert {record_id for _source, record_id, *_ in link_rows(hub.home)} == {"C-1"}


def test_the_job_centre_may_use_its_kundennummer_but_no_other_identifier(hub: Hub) -> None:
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at(CUSTOMER_NO), person_at("987654321098")))
    outcome = hub.ingest("jobcenter")
    assert (outcome.records_accepted, outcome.records_rejected) == (1, 1)
    [(source, stored, *_)] = link_rows(hub.home)
    assert source == "jobcenter" and stored == hub.stored_id("jobcenter", CUSTOMER_NO) != CUSTOMER_NO


def test_which_sources_keep_their_ids_encrypted() -> None:
    assert seals_record_ids(default_source("jobcenter")) and not seals_record_ids(default_source("caritas"))
    assert seals_record_ids(SourceConfig(connectors=["jobcenter-export"]))  # the connector declares it
    assert not seals_record_ids(SourceConfig(connectors=["jobcenter-export"], encrypt_record_ids=False))
    assert seals_record_ids(SourceConfig(connectors=["provider-csv"], encrypt_record_ids=True))
    written = render_config(HubConfig(sources={"jobcenter": default_source("jobcenter"), "caritas": default_source("caritas")}))
    assert written.count("encrypt_record_ids = true") == 1  # the job centre's, said in hub.toml


# --- the token everywhere, the number only to its owner ------------------------------------------------------


def samira_exchanged(hub: Hub) -> None:
    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at(CUSTOMER_NO)))
    hub.sync()
    hub.push(TODAY)


def database_bytes(hub: Hub) -> bytes:
    """The SQLite database file and its write-ahead log, as a disk image would hold them."""
    hub.engine.dispose()  # the last connection closes: SQLite copies the log into the file
    database = Path(str(hub.engine.url.database))
    files = [p for p in database.parent.glob(database.name + "*") if p.is_file()]
    assert database in files
    return b"".join(p.read_bytes() for p in files)


def test_a_kundennummer_is_never_kept_or_shown_in_clear_yet_addresses_the_job_centre(hub: Hub) -> None:
    samira_exchanged(hub)
    token = hub.stored_id("jobcenter", CUSTOMER_NO)
    with hub.sessions() as session, session.begin():  # a coordinator's review item on the pair
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        session.add(ReviewItem(record_a=ids["C-1"], record_b=ids[token], score=0.9, evidence={}))

    # the job centre receives its summary under its own number, in a file named by the token
    folder = hub.home.outbox("jobcenter", "summaries")
    document = json.loads((folder / f"{token}.summary.json").read_text(encoding="utf-8"))
    assert document["record_id"] == CUSTOMER_NO and document["cases_elsewhere"][0]["body"] == "caritas"
    assert "file_id" not in document
    table = next(folder.glob("summaries-*.csv")).read_text(encoding="utf-8")
    assert f"summary,{CUSTOMER_NO}," in table  # its table names the number too: it is the job centre's own
    to_caritas = (hub.home.outbox("caritas", "summaries") / "C-1.summary.json").read_text(encoding="utf-8")
    assert CUSTOMER_NO not in to_caritas and token not in to_caritas

    # everything the hub keeps or shows names the token only
    links = io.StringIO()
    write_links_csv(links, link_rows(hub.home))
    assert CUSTOMER_NO not in links.getvalue() and f"jobcenter,{token}," in links.getvalue()
    with hub.sessions() as session:
        [item] = list_items(session)
    assert item.b[:2] == ("jobcenter", token)
    assert jobcenter_records_in_the_log(hub) == {audit_name(hub)}  # a keyed token of the number, neither form
    names = [str(p.relative_to(hub.path)) for p in hub.path.rglob("*")]
    assert not any(CUSTOMER_NO in name for name in names) and any(token in name for name in names)
    receipts = "".join(p.read_text(encoding="utf-8") for p in hub.home.outbox("jobcenter", "receipts").iterdir())
    assert CUSTOMER_NO not in receipts
    if hub.engine.dialect.name == "sqlite":
        image = database_bytes(hub)
        assert CUSTOMER_NO.encode() not in image and token.encode() in image  # the scan finds what is there


def test_erasure_by_the_clear_kundennummer_takes_back_the_token_named_documents(hub: Hub) -> None:
    samira_exchanged(hub)
    token = hub.stored_id("jobcenter", CUSTOMER_NO)
    folder = hub.home.outbox("jobcenter", "summaries")
    assert (folder / f"{token}.summary.json").exists()

    outcome = erase(hub.home, hub.sessions, "jobcenter", CUSTOMER_NO)

    assert outcome.records_erased == 1 and outcome.erased == (("jobcenter", token),)
    assert not list(folder.glob("*.json"))  # its documents, named by the token
    assert not any(CUSTOMER_NO in p.read_text(encoding="utf-8") for p in folder.glob("*.csv"))  # its table rows, by number
    assert ("jobcenter", token) not in hub.pseudonyms()
    assert erase(hub.home, hub.sessions, "caritas", "C-1").records_erased == 1
    assert erase(hub.home, hub.sessions, "jobcenter", CUSTOMER_NO).records_erased == 0  # gone


def test_erasure_also_takes_the_token_as_the_links_export_shows_it(hub: Hub) -> None:
    samira_exchanged(hub)
    token = hub.stored_id("jobcenter", CUSTOMER_NO)
    assert erase(hub.home, hub.sessions, "jobcenter", token).records_erased == 1
    assert not list(hub.home.outbox("jobcenter", "summaries").glob("*.json"))


def test_a_key_rotation_re_makes_the_token_and_renames_the_job_centres_documents(hub: Hub) -> None:
    samira_exchanged(hub)
    old = hub.stored_id("jobcenter", CUSTOMER_NO)

    outcome = rotate_keys(hub.home, hub.config, hub.sessions)

    hub.keys = load_keys(hub.home.key_dir(hub.config))  # k2, with its own record-id key
    new = hub.stored_id("jobcenter", CUSTOMER_NO)
    assert outcome.complete and new != old and outcome.renamed == {"jobcenter": {old: new}}
    folder = hub.home.outbox("jobcenter", "summaries")
    assert sorted(p.name for p in folder.glob("*.json")) == [f"{new}.summary.json"] and outcome.outbox_documents_renamed == 1
    assert jobcenter_records_in_the_log(hub) == {audit_name(hub)}  # the record keeps its name in the log
    again = hub.push(TODAY)  # its transfer's hash was of the old token's document: sent once more, nothing else
    assert (again.summaries_sent, again.unchanged) == (1, 1)
    assert json.loads((folder / f"{new}.summary.json").read_text(encoding="utf-8"))["record_id"] == CUSTOMER_NO
    assert erase(hub.home, hub.sessions, "jobcenter", CUSTOMER_NO).records_erased == 1  # the number still finds it
    assert not list(folder.glob("*.json"))


# --- the upgrade of a home from before the tokens -------------------------------------------------------------


def as_before_the_tokens(hub: Hub) -> None:
    """Turn a home into one an earlier version left: the job centre's ids stored and used as outbox
    file names in clear, and no record-id key in the key folder. (The audit log names the record by
    a token of its number in either version: tests/test_migrations.py moves an older log.)"""
    token = hub.stored_id("jobcenter", CUSTOMER_NO)
    with hub.sessions() as session, session.begin():
        session.execute(update(SourceRecord).where(SourceRecord.record_id == token).values(record_id=CUSTOMER_NO))
    folder = hub.home.outbox("jobcenter", "summaries")
    for path in folder.glob(f"{token}.*.json"):
        path.rename(folder / path.name.replace(token, CUSTOMER_NO))
    if hub.engine.dialect.name == "sqlite":
        with hub.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    record_id_key_path(hub.home.key_dir(hub.config), "k1").unlink()


def test_an_upgraded_home_refuses_to_run_until_init_encrypts_its_clear_ids(hub: Hub) -> None:
    samira_exchanged(hub)
    token = hub.stored_id("jobcenter", CUSTOMER_NO)
    as_before_the_tokens(hub)
    key_dir = hub.home.key_dir(hub.config)
    with pytest.raises(ConfigError, match="kim-hub init"):
        load_keys(key_dir)  # no command runs on the old key folder

    config, settled = initialise_home(HubHome(hub.path))

    new_token = load_keys(key_dir).seal_record_id("jobcenter", CUSTOMER_NO)  # the new record-id key's
    assert new_token != token and settled.encrypted == {"jobcenter": {CUSTOMER_NO: new_token}}
    assert {r[1] for r in link_rows(hub.home) if r[0] == "jobcenter"} == {new_token}
    assert jobcenter_records_in_the_log(hub) == {audit_name(hub)}
    assert verify_log(hub.home).intact  # the upgrade rewrote no entry
    names = [p.name for p in hub.home.outbox("jobcenter", "summaries").iterdir()]
    assert f"{new_token}.summary.json" in names and not any(CUSTOMER_NO in name for name in names)
    if hub.engine.dialect.name == "sqlite":
        assert CUSTOMER_NO.encode() not in database_bytes(hub)
    assert initialise_home(HubHome(hub.path))[1].encrypted == {}  # once


def test_ingest_refuses_a_source_whose_stored_ids_are_in_the_wrong_form(hub: Hub) -> None:
    samira_exchanged(hub)
    with hub.sessions() as session, session.begin():  # as after switching encryption on without `kim-hub init`
        token = hub.stored_id("jobcenter", CUSTOMER_NO)
        session.execute(update(SourceRecord).where(SourceRecord.record_id == token).values(record_id=CUSTOMER_NO))
    hub.drop("jobcenter", "j2.csv", exchange_csv(person_at(CUSTOMER_NO, status="paused", updated="2026-11-24")))
    with pytest.raises(ConfigError, match="kim-hub init"):
        hub.ingest("jobcenter")
    assert (hub.home.inbox("jobcenter") / "j2.csv").exists()  # the delivery waits

    initialise_home(HubHome(hub.path))
    assert hub.ingest("jobcenter").records_accepted == 1  # the waiting delivery, onto the one record
    assert [r[1] for r in link_rows(hub.home) if r[0] == "jobcenter"] == [token]

    hub.config.sources["jobcenter"].encrypt_record_ids = False  # switching it off is refused, tokens stay
    with pytest.raises(ConfigError, match="encrypt_record_ids"):
        hub.ingest("jobcenter")


def test_the_record_id_key_is_a_separate_private_file(tmp_path: Path) -> None:
    hub = Hub.create(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'var' / 'hub.db'}")
    try:
        path = record_id_key_path(hub.home.key_dir(hub.config), "k1")
        assert path.stat().st_mode & 0o777 == 0o600 and hub.keys.record_id_key is not None
        os.chmod(path, 0o640)
        with pytest.raises(FatalError, match="chmod 600"):
            load_keys(hub.home.key_dir(hub.config))
    finally:
        hub.close()
