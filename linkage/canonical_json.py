"""The canonical JSON text of a mapped row, which the row's keyed content hash is taken of.

The text is defined as ``json.dumps(value, sort_keys=True, separators=(",", ":"))`` with json's
default ``ensure_ascii``: every content hash stored since the first release is of it, and a row
delivered again is known as unchanged only if its text is the same to the byte. orjson (Prefect
brings it; pinned in pyproject) writes that text too, once the characters json escapes and
orjson does not (everything outside printable ASCII and the control characters: non-ASCII
letters, DEL) are escaped as json escapes them, and it does so in under half the time. Most of
a population's names hold such a letter, so the escaping is part of the measure
(``benchmarks/README.md``). Whatever orjson refuses (a number beyond 64 bits, a lone surrogate,
a key that is not text) is written by json itself. A mapped row holds no floating-point numbers,
whose digits the two would write differently (``tests/test_canonical_json.py`` holds the model
to that and the text to json's).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)
_ESCAPED_BY_JSON_ONLY = re.compile(r"[^\x00-\x7e]")


def canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"))``, byte for byte (no floats)."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: what orjson does not write, json does
        return _JSON.encode(value)
    if text.isascii() and "\x7f" not in text:
        return text
    return _ESCAPED_BY_JSON_ONLY.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    """A character as json's ``ensure_ascii`` writes it: \\uXXXX, beyond the BMP as a surrogate pair."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"
