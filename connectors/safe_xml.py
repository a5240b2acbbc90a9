"""Parse XML from outside the hub without letting the file make the parser do anything.

An XML file can ask its parser to read local files or URLs (external entities, "XXE"), to
expand a few bytes into gigabytes (entity expansion, "billion laughs"), or to nest deeply enough
to exhaust memory. The hub's inbound XML formats need none of that, so:

* a file larger than ``MAX_XML_BYTES`` is refused before it is read;
* a document type declaration (``<!DOCTYPE``), or any other ``<!`` declaration before the root,
  is refused *before parsing*: no DTD, no entities, nothing to resolve;
* only ASCII-compatible encodings are accepted (so that check cannot be dodged with UTF-16);
* the parser itself is hardened as a second line (no entities, no network, no DTD loading,
  libxml2's default size and depth limits), and a DOCTYPE it still finds is refused.

Every refusal is an ``XmlRejectedError`` with a reason for people (no content echoed) and, where
known, the line. Callers turn it into a Rejection; nothing else escapes.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from kim_hub.core.errors import ConfigError

MAX_XML_BYTES = 50 * 1024 * 1024  # far above a city's daily message file (the sample: 1.3 MB for 2,000)

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_PREFIXES = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x3c\x00", b"\x00\x3c")


class XmlRejectedError(Exception):
    """The document is refused; ``reason`` is safe to show (no values from the file)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


# the former name; tests/ imports it until its restructuring (issue 17)
XmlRejected = XmlRejectedError


def hardened_parser() -> etree.XMLParser:
    """A parser that resolves nothing and loads nothing (a new one per call: parsers are not thread-safe)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_prolog(data: bytes) -> None:
    """Refuse wide encodings and any ``<!`` declaration (DOCTYPE, ENTITY…) before the root element.

    Only the prolog is scanned — XML declaration, comments, processing instructions and white
    space — so ``<!DOCTYPE`` as text inside the document cannot cause a false refusal.
    """
    if data.startswith(_WIDE_PREFIXES):
        raise XmlRejectedError("file is UTF-16 or UTF-32; only UTF-8 (or another ASCII-compatible encoding) is accepted")
    position = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    while position < len(data):
        if data[position : position + 1].isspace():
            position += 1
        elif data.startswith(b"<?", position):
            end = data.find(b"?>", position + 2)
            if end < 0:
                raise XmlRejectedError("not well-formed XML: unterminated declaration", _line_at(data, position))
            position = end + 2
        elif data.startswith(b"<!--", position):
            end = data.find(b"-->", position + 4)
            if end < 0:
                raise XmlRejectedError("not well-formed XML: unterminated comment", _line_at(data, position))
            position = end + 3
        elif data.startswith(b"<!", position):
            raise XmlRejectedError("document type declarations (DOCTYPE, entities) are not accepted", _line_at(data, position))
        else:
            return


def parse_untrusted(data: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._ElementTree:
    """Parse a delivered document, or raise XmlRejectedError; see the module docstring."""
    if len(data) > max_bytes:
        raise XmlRejectedError(f"file is larger than the limit of {max_bytes} bytes")
    check_prolog(data)
    parser = hardened_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        raise XmlRejectedError("not well-formed XML", line) from None
    except (etree.LxmlError, ValueError):
        raise XmlRejectedError("not well-formed XML") from None
    if root is None:
        raise XmlRejectedError("file holds no XML document")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRejectedError("document type declarations (DOCTYPE, entities) are not accepted")
    return tree


def load_schema(path: Path) -> etree.XMLSchema:
    """Compile an XSD shipped with the hub; a broken schema is a configuration error, not bad input."""
    try:
        return etree.XMLSchema(etree.parse(str(path), hardened_parser()))
    except (OSError, etree.LxmlError) as exc:
        raise ConfigError(f"XML schema {path.name} cannot be loaded ({exc.__class__.__name__})") from exc
