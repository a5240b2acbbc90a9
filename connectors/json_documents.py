"""A JSON document as the hub writes it into a file for people and systems: indented by two, UTF-8.

The standard library writes an indented document with its pure-Python encoder (its C encoder
takes no indent): 68 µs for a summary of the generator's shape, and a first push of 100,000
generated persons wrote 35,514 of them (benchmarks/README.md). orjson writes the same bytes, the
check below included, in 7 µs for every document made only of text, true/false/null, integers
within 64 bits, lists and objects with text keys, which is what the hub's summaries, notices and
receipts are; what else it takes (a key that is no text, a larger integer, a lone surrogate) it
refuses. A float, whose shortest form the two libraries spell differently (``1e+16``, ``1e16``),
and anything orjson refuses go to the standard library as before, so the bytes never depend on
which library wrote them. ``tests/test_json_documents.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def document_bytes(document: Any) -> bytes:
    """``json.dumps(document, indent=2, ensure_ascii=False) + "\\n"``, encoded as UTF-8."""
    if _orjson_writes_alike(document):
        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            pass  # refused (a key that is no text, an integer beyond 64 bits, a lone surrogate): json's turn
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _orjson_writes_alike(value: Any) -> bool:
    """Does ``value`` hold only text, true/false/null, integers, lists and objects? What orjson
    writes of these is json's text, or it refuses (see the module docstring); what it writes of
    anything else may differ (a float's digits), so that is left to json."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        return all(_orjson_writes_alike(item) for item in value.values())
    if kind is list or kind is tuple:
        return all(_orjson_writes_alike(item) for item in value)
    return False  # floats, other mappings, dates …: json
