"""The identifier policy (issue 20, item 1): identifiers fenced by law are taken only from the
sources the policy and hub.toml allow, and what is not taken leaves nothing behind.

A charity's delivery with AZR numbers, tax ids, social insurance numbers and Kundennummern goes
through the real ingest: every row lands, the receipt names each dropped column and its rule (no
value), a byte scan of the database finds neither the values nor any keyed token the encoder
would make of them (while it does find the token of an AZR number the authority delivered: the
scan works), and linkage has nothing of them to compare. The rule itself is data
(mappings/identifier_policy.toml); hub.toml can name a legal basis only where the policy allows.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import tomllib
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from kim_hub.cli.main import main
from kim_hub.core.errors import ConfigError
from kim_hub.core.rows import RawRow
from kim_hub.hub_db import index_snapshot
from kim_hub.hub_db.models import SourceRecord
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare import FIELDS, MISSING, compare, individual_evidence
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.compare_arrays import individual_evidence as individual_evidence_arrays
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.encoding_bytes import unpack
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.mappings.case_summary import BirthDate, CaseData, CaseSummary, Identity, PersonName
from kim_hub.mappings.identifier_policy import fence_summary, identifier_policy, parse_policy
from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig, default_source, render_config
from kim_hub.pipeline.source_check import check_sources
from tests.support import ROOT, Hub, sqlite_url
from tests.support.data import JOBCENTER_EXPORT

HEADER = (
    "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,"
    "azr_number,kundennummer_jc,steuer_id,svnr,consent_evidence,case_status\n"
)
CHARITY_AZR = ("987654321098", "876543210987")  # typed into the charity's system: not its to hold
TAX_ID = "86095742719"  # an IdNr's digit rule: one digit (9) twice in the first ten
SOCIAL_INSURANCE_NO = "65170839J003"
CUSTOMER_NO = "962D104711"
CHARITY_ROWS = [
    f"C-1,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,{CHARITY_AZR[0]},{CUSTOMER_NO},{TAX_ID},{SOCIAL_INSURANCE_NO},,active",
    f"C-2,Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,{CHARITY_AZR[1]},,,,IdNr {TAX_ID},intake",
]
AUTHORITY_AZR = "111122223333"  # the authority's own number for Samira: taken, a named basis
AUTHORITY_ROW = f"A-1,HADDAD,SAMIRA,1988-03-14,F,SYR,Testweg 1,51373,{AUTHORITY_AZR},,,,,active"


def azr_tokens(keys: EncodingKeys, number: str) -> list[int]:
    """Every keyed token the encoder makes of an AZR number: the number and its digit neighbours."""
    identity = Identity(name=PersonName(family_name="X"), azr_number=number)
    encoding = encode_identity(identity, keys)
    assert encoding.azr is not None
    return [encoding.azr, *encoding.azr_neighbours]


def customer_no_token(keys: EncodingKeys, number: str) -> int:
    encoding = encode_identity(Identity(name=PersonName(family_name="X"), jobcenter_customer_no=number), keys)
    assert encoding.jobcenter_no is not None
    return encoding.jobcenter_no


def as_bytes(token: int) -> list[bytes]:
    """A token as the database may hold it: decimal in the stored JSON, int64 in the index snapshot."""
    return [str(token).encode(), struct.pack("<q", token), struct.pack(">q", token)]


def database_bytes(hub: Hub) -> bytes:
    """The SQLite database with its write-ahead log, after a checkpoint."""
    path = Path(hub.home.database_url(hub.config).removeprefix("sqlite:///"))
    hub.engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def opened_bytes(hub: Hub) -> bytes:
    """What the database holds under its seal (linkage.sealed): every record's encoding as JSON and
    the index snapshot's columns, opened as the hub opens them in memory."""
    with hub.sessions() as session:
        ring = keyring_of(session)
        rows = session.execute(select(SourceRecord)).scalars()
        texts = [ring.open(r.encoding, r.key_id, r.source, r.content_hash) for r in rows]
        columns = [
            np.ascontiguousarray(getattr(arrays, f.name)).tobytes()
            for arrays, _digests in index_snapshot._read_segments(session)
            for f in fields(arrays)
            if getattr(arrays, f.name).dtype != object
        ]
    return b"".join(texts + columns)


def encodings(hub: Hub, source: str) -> dict[str, RecordEncoding]:
    with hub.sessions() as session:
        ring = keyring_of(session)
        rows = session.execute(select(SourceRecord).where(SourceRecord.source == source)).scalars()
        return {row.record_id: unpack(ring.open(row.encoding, row.key_id, row.source, row.content_hash)) for row in rows}


def notes_by_field(receipt: dict) -> dict[str | None, list[dict]]:
    found: dict[str | None, list[dict]] = {}
    for note in receipt["notes"]:
        found.setdefault(note["field"], []).append(note)
    return found


# --- through the real ingest ------------------------------------------------------------------------------


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Hub:
    opened = Hub.create(tmp_path / "home", sqlite_url(tmp_path / "hub.db"))
    yield opened
    opened.close()


def test_a_charity_delivery_keeps_every_row_and_no_trace_of_its_fenced_identifiers(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    hub.drop_rows("caritas", "caritas.csv", CHARITY_ROWS, header=HEADER)
    hub.drop_rows("abh", "abh.csv", [AUTHORITY_ROW], header=HEADER)
    outcome = hub.ingest("caritas")
    hub.ingest("abh")
    hub.link()

    # a row is a person: both land
    assert (outcome.records_accepted, outcome.records_rejected) == (2, 0)
    receipt = hub.receipt("caritas", "caritas.csv")
    assert receipt["status"] == "done_with_notes" and receipt["unknown_columns"] == []
    notes = notes_by_field(receipt)
    # one note per dropped column and file, naming the column and the rule
    assert [(n["row"], n["reason"][:21]) for n in notes["azr_number"]] == [(None, "2 row(s): not taken: ")]
    assert "§ 10 Abs. 4 AZRG" in notes["azr_number"][0]["reason"]
    assert "IDNrG" in notes["tax_id"][0]["reason"] and notes["tax_id"][0]["row"] is None
    assert "§ 18f SGB IV" in notes["social_insurance_number"][0]["reason"]
    assert "§ 51a SGB II" in notes["jobcenter_customer_no"][0]["reason"]
    # a tax id written into a column kept in clear is left out too
    assert notes["consent_evidence"] == [
        {"row": 3, "field": "consent_evidence", "reason": "looks like a tax id, which the hub keeps out of clear text; left out"}
    ]
    receipt_text = (hub.home.outbox("caritas", "receipts") / "caritas.csv.receipt.txt").read_text(encoding="utf-8")
    for value in (*CHARITY_AZR, TAX_ID, SOCIAL_INSURANCE_NO, CUSTOMER_NO):
        assert value not in json.dumps(receipt) and value not in receipt_text

    # the byte scan: neither the values nor any token the encoder makes of them, in the database
    # as it lies on disk (where every encoding is sealed: no token at all) nor under its seal
    raw = database_bytes(hub)
    stored = raw + opened_bytes(hub)
    authority_token = azr_tokens(hub.keys, AUTHORITY_AZR)[0]
    assert any(b in stored for b in as_bytes(authority_token)), "the scan finds the authority's AZR token"
    assert not any(b in raw for b in as_bytes(authority_token)), "on disk it is sealed"
    fenced_tokens = [
        *azr_tokens(hub.keys, CHARITY_AZR[0]),
        *azr_tokens(hub.keys, CHARITY_AZR[1]),
        customer_no_token(hub.keys, CUSTOMER_NO),
    ]
    assert [t for t in fenced_tokens if any(b in stored for b in as_bytes(t))] == []
    for value in (*CHARITY_AZR, TAX_ID, SOCIAL_INSURANCE_NO, CUSTOMER_NO):
        assert value.encode() not in stored

    # linkage uses none: the stored encodings carry no such field, the comparison finds it missing
    charity, authority = encodings(hub, "caritas"), encodings(hub, "abh")
    assert all(e.azr is None and e.azr_neighbours == () and e.jobcenter_no is None for e in charity.values())
    assert authority["A-1"].azr == authority_token
    levels = dict(zip(FIELDS, compare(charity["C-1"], authority["A-1"]).levels))
    assert levels["azr"] == MISSING and levels["jobcenter_no"] == MISSING
    assert hub.pseudonyms()[("caritas", "C-1")] == hub.pseudonyms()[("abh", "A-1")]  # still one person: by name and date


def test_the_policy_holds_on_every_backend(hub: Hub) -> None:
    hub.drop_rows("caritas", "caritas.csv", CHARITY_ROWS, header=HEADER)
    hub.ingest("caritas")
    stored = encodings(hub, "caritas")
    assert sorted(stored) == ["C-1", "C-2"]
    assert all(e.azr is None and e.jobcenter_no is None for e in stored.values())
    with hub.sessions() as session:
        case = session.execute(select(SourceRecord.case_data).where(SourceRecord.record_id == "C-2")).scalar_one()
    assert case["consent"]["evidence_ref"] is None
    assert {"azr_number", "tax_id", "social_insurance_number", "jobcenter_customer_no"} <= set(
        notes_by_field(hub.receipt("caritas", "caritas.csv"))
    )


def test_the_job_centre_keeps_its_azr_numbers_but_not_its_local_references(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    hub.drop("jobcenter", JOBCENTER_EXPORT.name, JOBCENTER_EXPORT.read_bytes())
    outcome = hub.ingest("jobcenter")
    assert outcome.records_rejected == 0 and outcome.records_accepted > 0
    stored = encodings(hub, "jobcenter")
    assert any(e.azr is not None for e in stored.values())  # a benefit authority with § 10 Abs. 4 AZRG named
    assert all(e.jobcenter_no is None and e.household is None for e in stored.values())  # § 51a SGB II: its own
    notes = notes_by_field(hub.receipt("jobcenter", JOBCENTER_EXPORT.name))
    assert "azr_number" not in notes and "jobcenter_customer_no" not in notes  # the Kundennummer is its record id
    assert [n["row"] for n in notes["household_no"]] == [None] and "BG-Nummer" in notes["household_no"][0]["reason"]


def test_a_named_basis_lets_a_kundennummer_in_and_its_shape_is_checked(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    caritas = hub.config.sources["caritas"].model_copy(
        update={"identifiers": {"jobcenter_customer_no": "§ 67d SGB X, agreement with the job centre"}}
    )
    hub.config = hub.config.model_copy(update={"sources": {**hub.config.sources, "caritas": caritas}})
    rows = [
        f"C-1,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,,{CUSTOMER_NO},,,,active",
        f"C-2,Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,,{TAX_ID},,,,intake",  # a tax id in the wrong column
    ]
    hub.drop_rows("caritas", "caritas.csv", rows, header=HEADER)
    hub.ingest("caritas")
    stored = encodings(hub, "caritas")
    assert stored["C-1"].jobcenter_no == customer_no_token(hub.keys, CUSTOMER_NO)
    assert stored["C-2"].jobcenter_no is None
    notes = notes_by_field(hub.receipt("caritas", "caritas.csv"))
    assert notes["jobcenter_customer_no"] == [
        {"row": 3, "field": "jobcenter_customer_no", "reason": "not shaped like a Kundennummer; left out"}
    ]


# --- the rule as data, and what hub.toml may say ----------------------------------------------------------------


def test_the_defaults_of_the_policy() -> None:
    policy = identifier_policy()
    assert {kind: rule.taken for kind, rule in policy.rules.items()} == {
        "tax_id": "never",
        "social_insurance_number": "never",
        "azr_number": "public_body",
        "jobcenter_customer_no": "named_basis",
        "bg_number": "named_basis",
    }
    assert policy.rules["azr_number"].body_kinds == {"authority", "jobcentre", "asylblg_office"}
    assert not any(rule.alone for rule in policy.rules.values())
    # what `kim-hub init` declares: the authority and the job centre take AZR numbers, nobody else anything
    assert {name: default_source(name).taken_identifiers for name in ("abh", "jobcenter", "stadt", "caritas")} == {
        "abh": {"azr_number"},
        "jobcenter": {"azr_number"},
        "stadt": frozenset(),
        "caritas": frozenset(),
    }
    assert SourceConfig().taken_identifiers == frozenset()  # no body kind declared: nothing
    assert policy.default_taken("abh") == {"azr_number"} and policy.default_taken("malteser") == frozenset()


@pytest.mark.parametrize(
    ("body_kind", "identifiers", "says"),
    [
        ("charity", {"azr_number": "Einwilligung"}, "taken only from a source whose body_kind is one of"),
        (None, {"azr_number": "§ 10 Abs. 4 AZRG"}, "taken only from a source whose body_kind is one of"),
        ("authority", {"tax_id": "§ 139b AO"}, "taken from no source"),
        ("jobcentre", {"social_insurance_number": "§ 18f SGB IV"}, "taken from no source"),
        ("authority", {"passport_no": "§ 3 PassG"}, "unknown kind"),
        ("authority", {"azr_number": "  "}, "name the legal basis"),
        ("ministry", {}, "body_kind must be one of"),
    ],
)
def test_hub_toml_names_a_basis_only_where_the_policy_allows(
    tmp_path: Path, body_kind: str | None, identifiers: dict[str, str], says: str
) -> None:
    home = HubHome(tmp_path)
    lines = ["[sources.x]", 'connectors = ["provider-csv"]']
    lines += [f'body_kind = "{body_kind}"'] if body_kind else []
    lines += ["[sources.x.identifiers]", *(f'{kind} = "{basis}"' for kind, basis in identifiers.items())]
    home.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as raised:
        home.load_config()
    assert "Einwilligung" not in str(raised.value) and "PassG" not in str(raised.value)  # the rule, not the text


def test_hub_toml_round_trips_body_kinds_and_bases(tmp_path: Path) -> None:
    home = HubHome(tmp_path)
    config = HubConfig(sources={name: default_source(name) for name in ("abh", "jobcenter", "caritas")})
    home.config_file.write_text(render_config(config), encoding="utf-8")
    loaded = home.load_config()
    assert loaded.sources == config.sources
    assert loaded.sources["abh"].identifiers == {"azr_number": "§ 10 Abs. 4 AZRG"}
    assert loaded.sources["caritas"].body_kind == "charity"
    checks = dict(check_sources(home, loaded)["caritas"])
    assert checks["identifiers"].ok and "takes none" in checks["identifiers"].detail


def test_a_broken_policy_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="taken must be one of"):
        parse_policy({"kinds": {"x": {"label": "x", "reason": "x", "taken": "sometimes"}}})
    with pytest.raises(ConfigError, match="not a field of the identity"):
        parse_policy({"kinds": {"x": {"label": "x", "reason": "x", "taken": "never", "field": "passport"}}})
    with pytest.raises(ConfigError, match="free_text"):
        parse_policy({"free_text": {"columns": ["goals"]}})
    shipped = tomllib.loads((ROOT / "mappings" / "identifier_policy.toml").read_text(encoding="utf-8"))
    shipped["defaults"]["caritas"]["identifiers"] = {"azr_number": "§ 10 Abs. 4 AZRG"}
    with pytest.raises(ConfigError, match="defaults.caritas: identifiers.azr_number"):
        parse_policy(shipped)


def test_fencing_a_summary_leaves_everything_else_alone() -> None:
    row = RawRow("f.csv", 2, {"azr_number": "987654321098", "steuer_id": "x"})
    summary = CaseSummary(
        identity=Identity(
            name=PersonName(family_name="Haddad", given_names="Samira"),
            birth_date=BirthDate(year=1988, month=3, day=14, precision="day"),
            azr_number="987654321098",
            household_no="12345//1234567",
        ),
        case=CaseData(source="caritas", record_id="C-1", case_status="active"),
    )
    fenced = fence_summary(summary, row, frozenset())
    assert fenced.identity.azr_number is None and fenced.identity.household_no is None
    assert fenced.identity.model_copy(update={"azr_number": "987654321098", "household_no": "12345//1234567"}) == summary.identity
    assert fenced.case == summary.case
    assert fence_summary(summary, row, frozenset({"azr_number", "bg_number"})) is summary


# --- never the only evidence ----------------------------------------------------------------------------------


def test_an_azr_number_alone_never_makes_an_automatic_link(keys: EncodingKeys) -> None:
    """§ 10 Abs. 4 AZRG: the number only together with the basic personal data. Two records that
    share it but agree on no name and no birth date may go to review, never link by themselves."""
    nameless = encode_identity(Identity(name=PersonName(), azr_number="111122223333"), keys)
    other_name = encode_identity(Identity(name=PersonName(family_name="Rahimi"), azr_number="111122223333"), keys)
    same_family = encode_identity(
        Identity(name=PersonName(family_name="Rahimi", given_names="A"), azr_number="111122223333"), keys
    )
    alone = compare(nameless, other_name)
    assert dict(zip(FIELDS, alone.levels))["azr"] == 2 and not individual_evidence(alone)
    together = compare(other_name, same_family)
    assert individual_evidence(together)
    arrays = from_encodings({0: nameless, 1: other_name, 2: same_family})
    batch = compare_pairs(arrays, np.array([0, 1]), np.array([1, 2]))
    assert list(individual_evidence_arrays(batch.levels)) == [False, True]


def test_the_cli_writes_what_init_declares_and_adds_a_body_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    assert main(["init", "--home", home]) == 0
    assert main(["sources", "add", "malteser", "--body-kind", "charity", "--home", home]) == 0
    with pytest.raises(SystemExit) as usage:
        main(["sources", "add", "sozialamt", "--body-kind", "ministry", "--home", home])  # not a body kind
    assert usage.value.code == 2
    config = HubHome(Path(home)).load_config()
    assert config.sources["abh"].identifiers == {"azr_number": "§ 10 Abs. 4 AZRG"}
    assert config.sources["malteser"].body_kind == "charity" and config.sources["malteser"].taken_identifiers == frozenset()
    capsys.readouterr()
    main(["sources", "check", "--home", home])
    lines = [line for line in capsys.readouterr().out.splitlines() if " identifiers " in line]
    assert any(line.split()[1] == "abh" and "takes azr_number (§ 10 Abs. 4 AZRG)" in line for line in lines)
    assert any(line.split()[1] == "malteser" and "takes none; drops tax_id" in line for line in lines)
