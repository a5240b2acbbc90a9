"""The provider CSV connector: encodings, delimiters, quoting, headers, row shape and numbering.

All values are synthetic. Reasons are checked for leaked values wherever rows are rejected.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from kim_hub.connectors.column_map import ColumnMap, normalise_header, provider_csv_column_map
from kim_hub.connectors.csv_dialect import count_outside_quotes, decode_bytes, detect_delimiter
from kim_hub.connectors.provider_csv import ProviderCsvConnector, read_provider_csv
from kim_hub.core.errors import BadInputError, ConfigError
from kim_hub.core.rows import FileBatch
from tests.support import ROOT, shared

NEVER_TAKEN_COLUMNS = {"tax_id", "social_insurance_number"}  # identifier policy: dropped from every source
HUB_EXTENSION_COLUMNS = {
    "referrals",
    "house_number",
    "consent_categories",
    "consent_purpose",
    "consent_valid_from",
    "consent_evidence",
}

HEADER = "record_id,family_name,given_names,birth_date,street"


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def assert_no_values_in_reasons(batch: FileBatch, *values: str) -> None:
    for rejection in batch.rejections:
        for value in values:
            assert value not in rejection.reason, rejection.describe()


# --- encodings ---------------------------------------------------------------------------------


def test_utf8_with_comma(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nT-1,Müller,Jürgen,1980-02-03,Hauptstraße 1\n")
    batch = read_provider_csv(path)
    assert not batch.rejections and not batch.rejected_whole
    assert batch.rows[0].fields == {
        "record_id": "T-1",
        "family_name": "Müller",
        "given_names": "Jürgen",
        "birth_date": "1980-02-03",
        "street": "Hauptstraße 1",
    }
    assert batch.rows[0].row_number == 2
    assert batch.rows[0].file == "export.csv"


def test_utf8_bom_is_dropped_from_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffrecord_id;family_name;given_names\r\nT-1;Öztürk;Ayşe\r\n")
    batch = read_provider_csv(path)
    assert batch.rows[0].fields == {"record_id": "T-1", "family_name": "Öztürk", "given_names": "Ayşe"}
    assert batch.unknown_columns == []


def test_windows_1252_with_umlauts_and_sharp_s(tmp_path: Path) -> None:
    text = "fall_id;nachname;vornamen;strasse\r\nT-1;Weiß;Jörg Ülrich;Kölner Straße 5\r\nT-2;Bäcker;Änne;Gußweg 2\r\n"
    batch = read_provider_csv(write(tmp_path, text, "cp1252"))
    assert [row.fields["family_name"] for row in batch.rows] == ["Weiß", "Bäcker"]
    assert batch.rows[0].fields["street"] == "Kölner Straße 5"
    assert batch.rows[1].fields["given_names"] == "Änne"


def test_encoding_is_decided_per_file(tmp_path: Path) -> None:
    # Only the last line carries a non-ASCII byte; the whole file is still Windows-1252.
    lines = ["record_id,family_name,given_names"] + [f"T-{i},Test,Anna" for i in range(50)] + ["T-X,Groß,Zoë"]
    batch = read_provider_csv(write(tmp_path, "\n".join(lines), "cp1252"))
    assert batch.rows[-1].fields["family_name"] == "Groß"
    assert batch.rows[-1].fields["given_names"] == "Zoë"


def test_decode_bytes_reports_encoding() -> None:
    assert decode_bytes("ä".encode()).encoding == "utf-8"
    assert decode_bytes(b"\xef\xbb\xbf" + "ä".encode()).encoding == "utf-8-sig"
    assert decode_bytes("ä".encode("cp1252")).encoding == "cp1252"


def test_utf16_file_is_rejected_whole_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("record_id,family_name,given_names\nT-1,Test,Anna\n".encode("utf-16"))
    batch = read_provider_csv(path)
    assert batch.rejected_whole and not batch.rows
    assert "UTF-16" in batch.rejections[0].reason


# --- delimiters and quoting --------------------------------------------------------------------


def test_semicolon_file_with_commas_in_values(tmp_path: Path) -> None:
    text = "record_id;family_name;given_names;street\nT-1;Test, Jr.;Anna;Weg 1, Hinterhaus\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rows[0].fields["family_name"] == "Test, Jr."
    assert batch.rows[0].fields["street"] == "Weg 1, Hinterhaus"


def test_delimiter_counted_outside_quotes_only() -> None:
    assert detect_delimiter('"a;b;c;d",record_id,family_name') == ","
    assert detect_delimiter('"a,b,c,d";record_id;family_name') == ";"
    assert count_outside_quotes('"x;y";z', ";") == 1
    assert detect_delimiter("record_id") == ","


def test_quoted_fields_with_delimiter_newline_and_doubled_quotes(tmp_path: Path) -> None:
    text = (
        "record_id,family_name,given_names,street\n"
        'T-1,"Test, Anna","Maria ""Mia""","c/o Beispiel\nHauptweg 3"\n'
        "T-2,Probe,Otto,Nebenweg 4\n"
    )
    batch = read_provider_csv(write(tmp_path, text))
    assert not batch.rejections
    first, second = batch.rows
    assert first.fields["family_name"] == "Test, Anna"
    assert first.fields["given_names"] == 'Maria "Mia"'
    assert first.fields["street"] == "c/o Beispiel\nHauptweg 3"
    assert first.row_number == 2
    assert second.row_number == 4  # physical line: the record above spans lines 2-3


def test_delimiter_found_below_blank_and_delimiter_only_lines(tmp_path: Path) -> None:
    text = "  \n;;;\nrecord_id;family_name;given_names;street\nT-1;Test;Anna;Weg 1, Hinterhaus\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert [(row.row_number, row.fields["street"]) for row in batch.rows] == [(4, "Weg 1, Hinterhaus")]


def test_excel_separator_hint_line(tmp_path: Path) -> None:
    text = "sep=;\nrecord_id;family_name;given_names\nT-1;Test, Anna;Maria\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert not batch.rejections and batch.unknown_columns == []
    assert [(row.row_number, row.fields["family_name"]) for row in batch.rows] == [(3, "Test, Anna")]


def test_crlf_and_quoted_crlf(tmp_path: Path) -> None:
    text = 'record_id;family_name;given_names;street\r\nT-1;Test;Anna;"Zeile 1\r\nZeile 2"\r\nT-2;Probe;Otto;Weg\r\n'
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rows[0].fields["street"] == "Zeile 1\r\nZeile 2"
    assert [row.row_number for row in batch.rows] == [2, 4]


# --- headers -----------------------------------------------------------------------------------


def test_german_headers_case_and_whitespace_insensitive(tmp_path: Path) -> None:
    text = (
        " Fall_ID ;NACHNAME; Vornamen;Geburtsdatum;Staatsangehörigkeit;PLZ;AZR-Nummer;Stand;"
        "Einwilligung_Empfaenger;kundennummer_jc\n"
        "T-1;Test;Anna;01.02.1990;Syrien;51373;123456789012;24.11.2026;kim;123D456789\n"
    )
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.unknown_columns == []
    assert set(batch.rows[0].fields) == {
        "record_id",
        "family_name",
        "given_names",
        "birth_date",
        "nationality",
        "postcode",
        "azr_number",
        "updated_at",
        "consent_recipients",
        "jobcenter_customer_no",
    }


def test_columns_in_any_order(tmp_path: Path) -> None:
    text = "given_names,street,record_id,family_name\nAnna,Weg 1,T-1,Test\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rows[0].fields == {"given_names": "Anna", "street": "Weg 1", "record_id": "T-1", "family_name": "Test"}


def test_unknown_columns_are_listed_and_dropped(tmp_path: Path) -> None:
    text = "record_id,family_name,Bemerkung,given_names,\nT-1,Test,frei,Anna,\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.unknown_columns == ["Bemerkung", "(unnamed column 5)"]
    assert batch.rows[0].fields == {"record_id": "T-1", "family_name": "Test", "given_names": "Anna"}


@pytest.mark.parametrize("missing", ["record_id", "family_name", "given_names"])
def test_missing_required_column_rejects_the_whole_file(tmp_path: Path, missing: str) -> None:
    columns = [c for c in ["record_id", "family_name", "given_names", "street"] if c != missing]
    text = ",".join(columns) + "\n" + ",".join(["x"] * len(columns)) + "\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rejected_whole
    assert batch.rows == []
    assert [(r.field, r.row) for r in batch.rejections] == [(missing, 1)]
    assert "missing" in batch.rejections[0].reason


def test_file_without_header_does_not_echo_the_data_row(tmp_path: Path) -> None:
    text = "T-1;Mustermann;Erika;1964-08-12\nT-2;Test;Anna;1990-01-01\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rejected_whole
    assert batch.unknown_columns == []  # the first line was data, not a header
    assert_no_values_in_reasons(batch, "Mustermann", "Erika", "1964")


def test_same_column_twice_rejects_the_whole_file(tmp_path: Path) -> None:
    text = "record_id;nachname;familienname;given_names\nT-1;Test;Probe;Anna\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert batch.rejected_whole
    assert batch.rejections[0].field == "family_name"
    assert "columns 2 and 3" in batch.rejections[0].reason


def test_empty_file_is_rejected_whole(tmp_path: Path) -> None:
    batch = read_provider_csv(write(tmp_path, "\n\n"))
    assert batch.rejected_whole
    assert batch.rejections[0].reason == "file has no header line"


# --- rows ----------------------------------------------------------------------------------------


def test_ragged_rows_rejected_with_row_number_good_rows_kept(tmp_path: Path) -> None:
    text = (
        "record_id,family_name,given_names\n"
        "T-1,Test,Anna\n"
        "T-2,Probe,Otto,Geheim\n"  # one field too many
        "T-3,Beispiel\n"  # one field too few
        "T-4,Muster,Max\n"
    )
    batch = read_provider_csv(write(tmp_path, text))
    assert [row.fields["record_id"] for row in batch.rows] == ["T-1", "T-4"]
    assert [(r.row, r.field) for r in batch.rejections] == [(3, None), (4, None)]
    assert batch.rejections[0].reason == "row has 4 fields but the header has 3"
    assert batch.rejections[1].reason == "row has 2 fields but the header has 3"
    assert not batch.rejected_whole
    assert_no_values_in_reasons(batch, "Probe", "Otto", "Geheim", "Beispiel", "T-2", "T-3")


def test_empty_lines_skipped_and_row_numbers_stay_physical(tmp_path: Path) -> None:
    text = "\nrecord_id;family_name;given_names\n\nT-1;Test;Anna\n;;\n   \nT-2;Probe;Otto\n\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert not batch.rejections
    assert [(row.row_number, row.fields["record_id"]) for row in batch.rows] == [(4, "T-1"), (7, "T-2")]


def test_unclosed_quote_is_reported_not_raised(tmp_path: Path) -> None:
    text = 'record_id,family_name,given_names\nT-1,Test,Anna\nT-2,"Probe,Otto\nT-3,Muster,Max\n'
    batch = read_provider_csv(write(tmp_path, text))
    assert [row.fields["record_id"] for row in batch.rows] == ["T-1"]
    assert batch.rejections[0].row == 3
    assert "unclosed quote" in batch.rejections[0].reason


def test_content_hash_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id,family_name,given_names\nT-1,Test,Anna\n")
    assert read_provider_csv(path).content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unreadable_file_raises_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        read_provider_csv(tmp_path / "missing.csv")


def test_connector_class_wraps_the_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id,family_name,given_names\nT-1,Test,Anna\n")
    assert ProviderCsvConnector.name == "provider-csv"
    assert ProviderCsvConnector.read_file(path).rows[0].fields["record_id"] == "T-1"
    assert ProviderCsvConnector().read_file(path).rows[0].row_number == 2


# --- the column map is data ---------------------------------------------------------------------


def test_shipped_column_map_covers_every_documented_column() -> None:
    column_map = provider_csv_column_map()
    assert column_map.required == ("record_id", "family_name", "given_names")
    documented = set(re.findall(r"^\| ([a-z_]+) \|", shared("formats", "provider-csv.md").read_text(), re.MULTILINE)) - {"column"}
    assert len(documented) == 22 and documented <= set(column_map.canonical_columns)
    # the hub's consent and referral extensions, documented in docs/exchange.md, and the identifier
    # columns it knows only to drop them, documented in docs/operations.md
    assert set(column_map.canonical_columns) - documented == HUB_EXTENSION_COLUMNS | NEVER_TAKEN_COLUMNS
    exchange_doc = (ROOT / "docs" / "exchange.md").read_text()
    assert all(f"`{column}`" in exchange_doc for column in HUB_EXTENSION_COLUMNS)
    operations_doc = (ROOT / "docs" / "operations.md").read_text()
    assert all(f"`{column}`" in operations_doc for column in NEVER_TAKEN_COLUMNS)
    assert column_map.canonical("Kundennummer_Traeger") == "record_id"
    assert column_map.canonical("einwilligung widerrufen") == "consent_withdrawn"
    assert column_map.canonical("Stand") == "updated_at"
    assert column_map.canonical("Bemerkung") is None


def test_renamed_column_is_a_one_line_change_in_the_map_file(tmp_path: Path) -> None:
    map_file = tmp_path / "map.toml"
    map_file.write_text(
        'required = ["record_id", "family_name", "given_names"]\n'
        "[columns]\n"
        'record_id = ["akte"]\nfamily_name = []\ngiven_names = ["rufname"]\n',
        encoding="utf-8",
    )
    column_map = ColumnMap.from_toml(map_file)
    path = write(tmp_path, "Akte,family_name,Rufname\nT-1,Test,Anna\n")
    assert read_provider_csv(path, column_map).rows[0].fields == {
        "record_id": "T-1",
        "family_name": "Test",
        "given_names": "Anna",
    }


def test_column_map_with_one_spelling_for_two_columns_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ColumnMap.from_dict({"record_id": ["id"], "family_name": ["ID "]}, ["record_id"])
    with pytest.raises(ConfigError):
        ColumnMap.from_dict({"record_id": []}, ["family_name"])


def test_normalise_header() -> None:
    assert normalise_header("  Staatsangehörigkeit ") == "staatsangehoerigkeit"
    assert normalise_header("AZR-Nummer") == "azr_nummer"
    assert normalise_header("Fall  ID") == "fall_id"


def test_rows_of_only_separators_or_white_space_are_passed_over_a_single_character_is_not(tmp_path: Path) -> None:
    """A record is blank when every cell is empty or white space (tabs, no-break spaces): such rows
    between data rows are no rows; one with a single visible character is a (ragged or short) row."""
    text = f"{HEADER}\nT-1,Test,Anna,1990-01-02,Weg 1\n,,,,\n \t,\u00a0,,,\nT-2,Probe,Otto,,Weg 2\n,,x,,\n"
    batch = read_provider_csv(write(tmp_path, text))
    assert [row.row_number for row in batch.rows] == [2, 5, 6]
