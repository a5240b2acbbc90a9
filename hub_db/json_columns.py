"""How the database's JSON columns are read back: orjson, with json for what orjson refuses.

A sync reads the case data of every record more than once (the push plans each body's summaries
from it, the report counts it, and a sync that found nothing new reads it to tell whether the
report must be written again). With the standard library's parser, decoding those columns was 39
of the 220 seconds a profiled first sync of 100,000 generated persons took (benchmarks/README.md);
orjson parses the same text in a fraction of the time. It gives the same values for what the hub
writes (objects, arrays, text, integers, decimal fractions: the same float for the same digits),
and for the rest json reads the text as before: ``NaN`` and ``Infinity``, which json writes and
orjson refuses, and any text holding a run of 19 digits or more, since orjson reads an integer
beyond 64 bits as a float where json keeps it exact (a token is 63 bits; a Bloom filter is not).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(r"\d{19}")  # 18 digits always fit 64 bits; from 19 on, maybe not
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def read_json(text: str | bytes) -> Any:
    """The value of a stored JSON text (the engines' ``json_deserializer``)."""
    long_digits = _LONG_DIGITS.search(text) if isinstance(text, str) else _LONG_DIGITS_BYTES.search(text)
    if long_digits is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
