"""The foreigners authority's XML messages: hardened parsing, schema, counts, and the mapping.

Fixtures in tests/fixtures/abh/ are synthetic and hand-made; damaged variants are derived from
good.xml (schema 1.0) and good_v11.xml (schema 1.1) in the tests. Hostile documents (XXE, billion laughs) must be refused without being
resolved and without an exception escaping ``read_file``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from kim_hub.connectors import safe_xml
from kim_hub.connectors.abh_xml import AbhFileBatch, AbhXmlConnector, abh_schema, flatten_message, read_abh_xml
from kim_hub.connectors.safe_xml import XmlRejected, hardened_parser, parse_untrusted
from kim_hub.core.errors import BadInputError
from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.abh_xml import abh_record_id, map_abh_row
from kim_hub.mappings.case_summary import BirthDate, CaseSummary, PersonName
from kim_hub.mappings.contract import contract_for
from tests.support import FIXTURES, ROOT, Hub, sample, seeded_keys, shared
from tests.support.data import ABH_GOOD, ABH_GOOD_V11

HOSTILE = FIXTURES / "abh"
GOOD = ABH_GOOD
GOOD_V11 = ABH_GOOD_V11
UUID_1 = "00000000-0000-4000-8000-000000000001"
UUID_2 = "00000000-0000-4000-8000-000000000002"


def good_text() -> str:
    return GOOD.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "ABH_20261124_001.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_rejected_whole(batch: AbhFileBatch, words: str) -> Rejection:
    assert batch.rejected_whole, batch.rejections
    assert batch.rows == []
    assert len(batch.rejections) == 1
    assert words in batch.rejections[0].reason, batch.rejections[0].reason
    return batch.rejections[0]


def summaries(batch: AbhFileBatch) -> list[CaseSummary]:
    results = [map_abh_row("abh", row) for row in batch.rows]
    assert all(isinstance(result, CaseSummary) for result in results), results
    return results  # type: ignore[return-value]


# --- the connector's contract and a good file ------------------------------------------------------


def test_connector_declares_its_formats() -> None:
    assert AbhXmlConnector.name == "abh-xml"
    assert AbhXmlConnector.row_format == "abh-xml"
    assert AbhXmlConnector.file_suffixes == (".xml",)


def test_schema_is_shipped_as_package_data() -> None:
    schema = abh_schema()
    assert {"abhMeldungen", "meldung", "azrNummer", "anzahl", "nachrichtUUID"} <= schema.names


def test_shipped_schema_is_the_shared_one() -> None:
    shipped = ROOT / "mappings" / "schemas" / "abh-meldung.xsd"
    assert shipped.read_bytes() == shared("formats", "abh-meldung.xsd").read_bytes()


def test_good_file_gives_one_row_per_message_numbered_by_line() -> None:
    batch = AbhXmlConnector.read_file(GOOD)
    assert not batch.rejected_whole and batch.rejections == [] and batch.superseded == []
    assert [row.row_number for row in batch.rows] == [4, 5, 16, 17]
    first = batch.rows[0].fields
    assert first["message_uuid"] == UUID_1 and first["message_type"] == "bestand"
    assert first["azr_number"] == "200000000001"
    assert first["street"] == "Musterstraße 1a" and first["postcode"] == "51373"
    assert first["residence_status"] == "AE_25_2_GFK" and first["residence_valid_from"] == "2025-04-15"
    assert [row.fields["birth_date"] for row in batch.rows] == ["1990-01-01", "1988", "1979-06", ""]
    assert batch.rows[1].fields["nationality"] == "423|439"


def test_good_file_maps_every_message() -> None:
    first, second, third, fourth = summaries(AbhXmlConnector.read_file(GOOD))
    assert first.case.record_id == abh_record_id("200000000001")
    # the AZR number is the authority's only person key: pseudonymisation must key it
    from kim_hub.linkage.pseudonymise import stored_record_id

    stored = stored_record_id(first.case.record_id, seeded_keys("t"), "abh")
    assert stored.startswith("ABH-") and "200000000001" not in stored
    assert first.identity.azr_number == "200000000001"
    assert first.identity.nationalities == ("SYR",) and second.identity.nationalities == ("AFG", "IRN")
    assert fourth.identity.nationalities == ("XXA",)
    assert [s.identity.sex for s in (first, second, third, fourth)] == ["M", "X", "F", "X"]
    assert first.case.residence_status == "AE_25_2_GFK"
    assert second.case.residence_status == "DULDUNG"  # "duldung" normalised via the code list
    assert fourth.case.residence_status == "EINGEBUERGERT"  # einbuergerung without a status element
    assert third.case.case_status == "closed" and third.case.case_closed == dt.date(2026, 11, 23)  # wegzug
    assert first.case.case_status is None and first.case.rechtskreis is None
    assert first.case.updated_at == dt.date(2026, 11, 24)
    assert second.identity.name == PersonName(family_name="", given_names="Gulbadin")
    assert first.identity.birth_place == "MUSTERSTADT"


def test_variant_spellings_arrive_as_variant_names() -> None:
    first, second, *_ = summaries(AbhXmlConnector.read_file(GOOD))
    assert first.identity.variant_names == (
        PersonName(family_name="Al-Testi", given_names="Muhammad Ali"),
        PersonName(family_name="ALTESTI", given_names="MOHAMMED"),
    )  # the third variant repeats the main name and is dropped
    assert second.identity.variant_names == ()


def test_partial_birth_dates() -> None:
    first, second, third, fourth = summaries(AbhXmlConnector.read_file(GOOD))
    assert first.identity.birth_date == BirthDate(year=1990, month=1, day=1, precision="day", placeholder=True)
    assert second.identity.birth_date == BirthDate(year=1988, precision="year")
    assert third.identity.birth_date == BirthDate(year=1979, month=6, precision="month")
    assert fourth.identity.birth_date is None  # <unbekannt>true</unbekannt>


def test_time_zone_suffixes_of_xsd_dates_are_dropped() -> None:
    message = etree.fromstring(
        b'<meldung xmlns="urn:kim-hub:abh:1"><person><geburtsdatum><jahr>1980Z</jahr></geburtsdatum></person>'
        b'<aufenthalt><status code="NE" gueltigAb="2020-01-02+01:00"/></aufenthalt></meldung>'
    )
    fields = flatten_message(message)
    assert fields["birth_date"] == "1980" and fields["residence_valid_from"] == "2020-01-02"


# --- whole-file rejections ------------------------------------------------------------------------


def test_file_failing_the_schema_names_line_and_element_not_value(tmp_path: Path) -> None:
    text = good_text().replace("<azrNummer>200000000002</azrNummer>", "<azrNummer>20000000002</azrNummer>")
    rejection = assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "ABH schema")
    assert rejection.row == 7 and "azrNummer" in rejection.reason
    assert "20000000002" not in rejection.reason


def test_unknown_message_type_fails_the_schema(tmp_path: Path) -> None:
    text = good_text().replace('typ="wegzug"', 'typ="umzug"')
    rejection = assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "allowed codes")
    assert rejection.row == 16 and "umzug" not in rejection.reason


def test_wrong_namespace_is_rejected_whole(tmp_path: Path) -> None:
    text = good_text().replace('xmlns="urn:kim-hub:abh:1"', 'xmlns="urn:kim-hub:abh:2"')
    assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "namespace")
    text = good_text().replace(' xmlns="urn:kim-hub:abh:1"', "")
    assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "namespace")


def test_anzahl_mismatch_is_rejected_whole(tmp_path: Path) -> None:
    text = good_text().replace('anzahl="4"', 'anzahl="5"')
    assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "anzahl announces 5 messages but the file holds 4")


def test_truncated_xml_is_rejected_whole_with_a_line(tmp_path: Path) -> None:
    text = good_text()
    rejection = assert_rejected_whole(read_abh_xml(write(tmp_path, text[: text.index("<meldung", 600)])), "well-formed")
    assert rejection.row is not None


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, good_text())
    batch = AbhXmlConnector.read_file(path, max_bytes=100)
    assert_rejected_whole(batch, "larger than the limit")
    assert len(batch.content_hash) == 64


def test_utf16_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ABH_20261124_001.xml"
    path.write_bytes(good_text().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert_rejected_whole(read_abh_xml(path), "UTF-16")


def test_unreadable_file_raises_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        read_abh_xml(tmp_path / "missing.xml")


# --- hostile documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["xxe.xml", "billion_laughs.xml"])
def test_doctype_payloads_are_refused_without_resolving(fixture: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused by the prolog check, before any parser exists: nothing can be resolved or expanded."""

    def no_parser() -> None:
        raise AssertionError("the document reached the XML parser")

    monkeypatch.setattr(safe_xml, "hardened_parser", no_parser)
    batch = read_abh_xml(HOSTILE / fixture)
    rejection = assert_rejected_whole(batch, "document type declarations")
    assert rejection.row == 2
    assert "root:" not in rejection.reason and "lol" not in rejection.reason


def test_doctype_after_a_comment_is_refused_too() -> None:
    data = b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(XmlRejected, match="document type") as caught:
        parse_untrusted(data)
    assert caught.value.line == 3


def test_hardened_parser_alone_resolves_no_external_entity() -> None:
    """Second line of defence: even if the prolog check were bypassed, nothing is read from disk."""
    data = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    root = etree.fromstring(data, hardened_parser())
    assert "root:" not in etree.tostring(root, encoding="unicode")
    assert not (root.text or "")


def test_hardened_parser_alone_expands_no_entity_bomb() -> None:
    """Second line of defence against billion laughs: the parser alone refuses the document or
    leaves its entities unexpanded; it never hands on the expansion."""
    data = (HOSTILE / "billion_laughs.xml").read_bytes()
    try:
        text = etree.tostring(etree.fromstring(data, hardened_parser()))
    except etree.XMLSyntaxError:
        text = b""  # refused (libxml2's amplification limit): nothing expanded
    assert b"lollol" not in text


def test_doctype_text_inside_an_element_is_not_a_declaration(tmp_path: Path) -> None:
    text = good_text().replace("<geburtsort>MUSTERSTADT</geburtsort>", "<geburtsort><![CDATA[<!DOCTYPE]]></geburtsort>")
    batch = read_abh_xml(write(tmp_path, text))
    assert not batch.rejected_whole and batch.rows[0].fields["birth_place"] == "<!DOCTYPE"


# --- message-level rules ----------------------------------------------------------------------------


def test_duplicate_uuid_is_ignored_not_rejected(tmp_path: Path) -> None:
    text = good_text().replace(UUID_2, UUID_1)
    batch = read_abh_xml(write(tmp_path, text))
    assert not batch.rejected_whole and not batch.rejections
    assert [row.row_number for row in batch.rows] == [4, 16, 17]
    assert [(m.row, m.superseded_by_row) for m in batch.superseded] == [(5, 4)]
    assert UUID_1 not in batch.superseded[0].describe()


def test_later_message_about_the_same_person_supersedes_the_earlier(tmp_path: Path) -> None:
    text = good_text().replace("<azrNummer>200000000003</azrNummer>", "<azrNummer>200000000001</azrNummer>")
    text = text.replace('zeitpunkt="2026-11-23T08:30:00+01:00"', 'zeitpunkt="2026-11-25T08:30:00+01:00"')
    batch = read_abh_xml(write(tmp_path, text))
    assert batch.rejections == []
    assert [row.row_number for row in batch.rows] == [5, 16, 17]
    assert [(s.row, s.superseded_by_row) for s in batch.superseded] == [(4, 16)]
    assert "superseded" in batch.superseded[0].describe()


def test_older_message_later_in_the_file_does_not_win(tmp_path: Path) -> None:
    text = good_text().replace("<azrNummer>200000000003</azrNummer>", "<azrNummer>200000000001</azrNummer>")
    batch = read_abh_xml(write(tmp_path, text))  # row 16 is dated 23.11., row 4 24.11.
    assert [row.row_number for row in batch.rows] == [4, 5, 17]
    assert [(s.row, s.superseded_by_row) for s in batch.superseded] == [(16, 4)]


def test_equal_times_keep_the_message_later_in_the_file(tmp_path: Path) -> None:
    text = good_text().replace("<azrNummer>200000000002</azrNummer>", "<azrNummer>200000000001</azrNummer>")
    batch = read_abh_xml(write(tmp_path, text))
    assert [(s.row, s.superseded_by_row) for s in batch.superseded] == [(4, 5)]


def message_row(**changes: str) -> RawRow:
    fields = dict(AbhXmlConnector.read_file(GOOD).rows[0].fields)
    fields.update(changes)
    return RawRow("ABH_20261124_001.xml", 4, fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"azr_number": ""}, "azr_number"),  # the message's only per-person key: nobody to attribute it to
        ({"message_time": "gestern", "file_time": "vorgestern"}, "message_time"),  # no date for its event at all
        ({"message_type": "umzug"}, "message_type"),
    ],
)
def test_a_message_that_cannot_be_attributed_is_rejected_naming_row_and_field(changes: dict[str, str], field: str) -> None:
    result = map_abh_row("abh", message_row(**changes))
    assert isinstance(result, list) and [(r.row, r.field) for r in result] == [(4, field)]
    for value in changes.values():
        if len(value) >= 3:
            assert all(value not in r.reason for r in result), result


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"residence_status": "AE_99_Z"}, "residence_status"),
        ({"nationality": "475|123456"}, "nationality"),
        ({"nationality": "100166"}, "nationality"),  # 6 digits, but not the zero-padded form of a Destatis code
        ({"birth_date": "1990-02-30"}, "birth_date"),
        ({"postcode": "ABC12"}, "postcode"),
        ({"variant_names": "Al-Testi\tMuhammad"}, "variant_names"),
        ({"family_name": "", "given_names": "", "birth_date": ""}, None),  # nothing but the AZR number: it links on that
    ],
)
def test_a_flawed_field_lands_the_message_with_a_note_naming_row_and_field(changes: dict[str, str], field: str | None) -> None:
    result = map_abh_row("abh", message_row(**changes))
    assert isinstance(result, CaseSummary)
    assert [(n.row, n.field) for n in result.notes] == ([(4, field)] if field else [])
    for value in changes.values():
        if len(value) >= 3:
            assert all(value not in n.reason for n in result.notes), result.notes


def test_a_message_time_no_date_can_hold_takes_the_files_creation_date_with_a_note() -> None:
    """xs:dateTime allows a year of five digits; the message is still attributable, and it is from
    no later than its file."""
    result = map_abh_row("abh", message_row(message_time="10000-01-01T00:00:00"))
    assert isinstance(result, CaseSummary)
    assert result.case.updated_at == dt.date(2026, 11, 24)  # erstellt of good.xml
    assert [(n.row, n.field) for n in result.notes] == [(4, "message_time")] and "10000" not in result.notes[0].reason


def test_the_end_of_a_day_is_the_next_days_midnight(tmp_path: Path) -> None:
    """``T24:00:00`` is valid xs:dateTime (the end of the day) and an instant Python cannot write."""
    text = good_text().replace('zeitpunkt="2026-11-22T10:00:00"', 'zeitpunkt="2026-11-22T24:00:00+01:00"')
    assert text != good_text()
    batch = read_abh_xml(write(tmp_path, text))
    assert not batch.rejected_whole
    (changed,) = [row for row in batch.rows if row.fields["message_type"] == "einbuergerung"]
    assert changed.fields["message_time"] == "2026-11-23T00:00:00+01:00"
    result = map_abh_row("abh", changed)
    assert isinstance(result, CaseSummary) and result.notes == () and result.case.updated_at == dt.date(2026, 11, 23)


def test_what_a_superseded_message_reported_stays_history(tmp_path: Path) -> None:
    """A recognition and a death, then a correction, in one file: only the correction's facts are
    kept, but all three are dated events (a death the file reported is never lost)."""
    text = GOOD_V11.read_text(encoding="utf-8")
    death = text.splitlines()[3]
    recognition = (
        death.replace("000000000011", "000000000021")
        .replace('typ="tod"', 'typ="statusaenderung"')
        .replace("</person>", '</person><aufenthalt><status code="AE_25_2_GFK" gueltigAb="2026-11-01"/></aufenthalt>')
        .replace("2026-11-20T07:45:00", "2026-11-19T07:45:00")
    )
    correction = (
        death.replace("000000000011", "000000000031")
        .replace('typ="tod"', 'typ="berichtigung"')
        .replace("2026-11-20T07:45:00", "2026-11-20T09:00:00")
    )
    text = text.replace(death, "\n".join((correction, recognition, death))).replace('anzahl="4"', 'anzahl="6"')
    batch = read_abh_xml(write(tmp_path, text))
    assert [(s.row, s.superseded_by_row) for s in batch.superseded] == [(5, 4), (6, 4)]
    result = map_abh_row("abh", batch.rows[0])
    assert isinstance(result, CaseSummary) and result.notes == ()
    assert [(e.kind, e.on.isoformat(), e.residence_status) for e in result.case.events] == [
        ("statusaenderung", "2026-11-19", "AE_25_2_GFK"),
        ("tod", "2026-11-20", None),
        ("berichtigung", "2026-11-20", None),
    ]
    assert result.case.case_status is None  # the facts are the latest message's


def test_an_unreadable_earlier_message_is_a_note_never_a_refusal() -> None:
    earlier = '[{"type": "tod", "time": "gestern", "status": "", "valid_from": ""}, {"type": "statusaenderung", "time": "2026-11-01T08:00:00", "status": "AE_99_Z", "valid_from": ""}]'
    result = map_abh_row("abh", message_row(earlier_messages=earlier))
    assert isinstance(result, CaseSummary)
    assert ("statusaenderung", None) in [(e.kind, e.residence_status) for e in result.case.events]
    assert [(n.field, n.reason.split(" ")[0]) for n in result.notes] == [("earlier_messages", "2")]
    assert "gestern" not in result.notes[0].reason and "AE_99_Z" not in result.notes[0].reason


def test_message_without_azr_number_reaches_the_mapping_and_is_rejected(tmp_path: Path) -> None:
    text = good_text().replace("<azrNummer>200000000002</azrNummer>", "")
    batch = read_abh_xml(write(tmp_path, text))
    assert not batch.rejected_whole and len(batch.rows) == 4
    result = map_abh_row("abh", batch.rows[1])
    assert isinstance(result, list) and result[0].field == "azr_number"


# --- schema 1.1: new message types, 6-digit nationality codes, the version attribute ---------------

DEPARTURES = [  # (row in good_v11.xml, message type, message date)
    (0, "tod", dt.date(2026, 11, 20)),
    (1, "zustaendigkeitswechsel", dt.date(2026, 11, 21)),
    (2, "ausreise", dt.date(2026, 11, 22)),
]
V11_CLEAR_VALUES = ("Testenko", "Iryna", "PROBE", "KARIM", "Muster", "Semira", "Beispiel", "Farid", "1961-03-08", "2000000000")


def test_v11_file_reads_the_new_message_types_and_codes_as_sent() -> None:
    batch = AbhXmlConnector.read_file(GOOD_V11)
    assert not batch.rejected_whole and batch.rejections == [] and batch.superseded == []
    assert [row.row_number for row in batch.rows] == [4, 5, 6, 7]
    assert [row.fields["message_type"] for row in batch.rows] == ["tod", "zustaendigkeitswechsel", "ausreise", "statusaenderung"]
    assert batch.rows[1].fields["nationality"] == "000475|423"  # 6 and 3 digits side by side; the mapping normalises


@pytest.mark.parametrize(("row", "kind", "on"), DEPARTURES)
def test_v11_departures_close_the_case_with_a_dated_event_of_their_kind(row: int, kind: str, on: dt.date) -> None:
    summary = summaries(AbhXmlConnector.read_file(GOOD_V11))[row]
    assert (summary.case.case_status, summary.case.case_closed, summary.case.updated_at) == ("closed", on, on)
    assert [(event.kind, event.on) for event in summary.case.events] == [(kind, on)]
    assert summary.case.rechtskreis is None  # nothing derived: consequences are the hub's rules


def test_v11_six_digit_nationality_codes_are_the_three_digit_ones() -> None:
    mapped = summaries(AbhXmlConnector.read_file(GOOD_V11))
    assert [s.identity.nationalities for s in mapped] == [("UKR",), ("SYR", "AFG"), ("XXA",), ("AFG",)]
    assert mapped[1].case.residence_status == "AE_25_2_SUB"  # a status sent with a departure is kept
    assert mapped[3].case.case_status is None  # a 1.0 message type in a 1.1 file: as before


def test_a_v11_message_type_needs_no_version_attribute(tmp_path: Path) -> None:
    """The attribute is optional (default 1.0); a file is not refused whole for leaving it out."""
    text = GOOD_V11.read_text(encoding="utf-8").replace(' version="1.1"', "")
    batch = read_abh_xml(write(tmp_path, text))
    assert not batch.rejected_whole and [row.fields["message_type"] for row in batch.rows][0] == "tod"


def test_unknown_version_fails_the_schema_naming_the_attribute_not_the_value(tmp_path: Path) -> None:
    text = GOOD_V11.read_text(encoding="utf-8").replace('version="1.1"', 'version="7.3"')
    rejection = assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "allowed codes")
    assert rejection.row == 3 and "'version'" in rejection.reason and "7.3" not in rejection.reason


def test_nationality_code_of_another_length_fails_the_schema(tmp_path: Path) -> None:
    text = GOOD_V11.read_text(encoding="utf-8").replace('code="000166"', 'code="0000166"')
    rejection = assert_rejected_whole(read_abh_xml(write(tmp_path, text)), "required form")
    assert rejection.row == 4 and "staatsangehoerigkeit" in rejection.reason and "0000166" not in rejection.reason
    assert not any(value in rejection.reason for value in V11_CLEAR_VALUES)


def test_an_unknown_second_nationality_costs_only_itself() -> None:
    row = AbhXmlConnector.read_file(GOOD_V11).rows[1]
    flawed = RawRow(row.file, row.row_number, {**row.fields, "nationality": "000475|123456|423"})
    result = map_abh_row("abh", flawed)
    assert isinstance(result, CaseSummary) and result.identity.nationalities == ("SYR", "AFG")
    assert [(n.row, n.field) for n in result.notes] == [(5, "nationality")] and "123456" not in result.notes[0].reason
    # a source held to a stricter contract gets what it asked for
    dropped = map_abh_row("abh", flawed, contract_for("abh-xml").tightened({"nationality": "drop_value"}))
    assert isinstance(dropped, CaseSummary) and dropped.identity.nationalities == ()
    refused = map_abh_row("abh", flawed, contract_for("abh-xml").tightened({"nationality": "reject_row"}))
    assert isinstance(refused, list) and [r.field for r in refused] == ["nationality"]


def test_departure_message_problems_name_row_and_field_never_the_value() -> None:
    row = AbhXmlConnector.read_file(GOOD_V11).rows[0]
    broken = RawRow(row.file, row.row_number, {**row.fields, "birth_date": "1961-02-30", "nationality": "000166|123456"})
    result = map_abh_row("abh", broken)
    assert isinstance(result, CaseSummary)  # the death notice still lands: a flawed field is a note
    assert sorted((n.row, n.field) for n in result.notes) == [(4, "birth_date"), (4, "nationality")]
    assert not any(value in n.reason for n in result.notes for value in ("1961", "123456", "Testenko", "200000000011"))


def test_the_fixtures_are_documents_of_their_versions() -> None:
    """good.xml is a 1.0 document (valid against the 1.0 schema, kept as a test fixture) and so,
    as its authors promise, a 1.1 document too; good_v11.xml is 1.1 and not 1.0."""
    schema_10 = safe_xml.load_schema(HOSTILE / "abh-meldung-1.0.xsd")
    assert schema_10.validate(etree.parse(str(GOOD))) and abh_schema().xsd.validate(etree.parse(str(GOOD)))
    assert not schema_10.validate(etree.parse(str(GOOD_V11))) and abh_schema().xsd.validate(etree.parse(str(GOOD_V11)))


def test_files_of_both_schema_versions_ingest(hub: Hub) -> None:
    """The real path: a 1.0 file (no version attribute) and a 1.1 file land side by side; every
    message type becomes a dated event; receipts hold no name, date or AZR number."""
    from sqlalchemy import select

    from kim_hub.hub_db.models import RecordEvent, SourceRecord

    assert etree.parse(str(GOOD)).getroot().get("version") is None  # a plain 1.0 file
    hub.drop("abh", "ABH_20261124_001.xml", GOOD.read_bytes())
    hub.drop("abh", "ABH_20261124_002.xml", GOOD_V11.read_bytes())
    outcome = hub.ingest("abh")
    assert (outcome.files_ingested, outcome.files_rejected, outcome.records_accepted, outcome.records_rejected) == (2, 0, 8, 0)
    with hub.sessions() as session:
        kinds = set(session.execute(select(RecordEvent.kind)).scalars())
        closed = [r.case_data["case_status"] for r in session.execute(select(SourceRecord)).scalars()].count("closed")
    assert kinds == {"statusaenderung", "wegzug", "einbuergerung", "tod", "zustaendigkeitswechsel", "ausreise"}
    assert closed == 4  # wegzug, tod, zustaendigkeitswechsel, ausreise
    receipts = "".join(p.read_text(encoding="utf-8") for p in hub.home.outbox("abh", "receipts").iterdir())
    assert receipts and not any(value in receipts for value in (*V11_CLEAR_VALUES, "AL-TESTI", "1990-01-01"))


# --- the native sample ------------------------------------------------------------------------------


def test_native_sample_messages_map_without_rejections() -> None:
    files = sorted((sample("native") / "inbox" / "abh").glob("*.xml"))
    assert files
    total = 0
    for path in files:
        batch = AbhXmlConnector.read_file(path)
        assert not batch.rejected_whole, [r.describe() for r in batch.rejections]
        assert batch.rejections == [] and batch.superseded == []
        results = [map_abh_row("abh", row) for row in batch.rows]
        rejected = [r for result in results if isinstance(result, list) for r in result]
        assert len(rejected) <= len(batch.rows) // 100, [r.describe() for r in rejected[:10]]
        mapped = [result for result in results if isinstance(result, CaseSummary)]
        assert len({s.case.record_id for s in mapped}) == len(mapped)
        assert any(s.identity.variant_names for s in mapped)
        total += len(batch.rows)
    assert total > 2000
