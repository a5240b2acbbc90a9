"""A JSON document as the hub writes it into a file for people and systems: indented by two, UTF-8.

The standard library writes an indented document with its pure-Python encoder (its C encoder
takes no indent): 68 µs for a summary of the generator's shape, and a first push of 100,000
generated persons wrote 35,514 of them (benchmarks/README.md). orjson writes the same bytes, the
check below included, in 11 µs for every document made only of text, true/false/null, integers
within 64 bits, lists and objects with text keys, which is what the hub's summaries, notices and
receipts are. Anything
else (a float, whose shortest form the two libraries spell differently, as in ``1e+16`` and
``1e16``; a key that is not text; a value orjson refuses, such as text with a lone surrogate)
goes to the standard library as before, so the bytes never depend on which library wrote them.
``tests/test_json_documents.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_INT64 = range(-(2**63), 2**64)  # what orjson writes as an integer (beyond: it refuses)


def document_bytes(document: Any) -> bytes:
    """``json.dumps(document, indent=2, ensure_ascii=False) + "\\n"``, encoded as UTF-8."""
    if _orjson_writes_alike(document):
        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except (TypeError, orjson.JSONEncodeError):
            pass  # refused (a lone surrogate in text): the standard library says what it says
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _orjson_writes_alike(value: Any) -> bool:
    """Does ``value`` hold only what both libraries spell alike (see the module docstring)?"""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return value in _INT64
    if kind is dict or kind is list or kind is tuple:
        items = value.values() if kind is dict else value
        if kind is dict and not all(type(key) is str for key in value):
            return False
        return all(_orjson_writes_alike(item) for item in items)
    return False  # floats, other mappings, dates …: the standard library
