"""Counts a sender writes about its own file (the job centre's trailer, the authority's ``anzahl``).

Such a count is checked against the rows found, so it is read strictly: ASCII digits only (``²``
is a digit to Python's ``str.isdigit`` and fails ``int``) and at most ``MAX_DIGITS`` of them (a
count of thousands of digits makes ``int`` raise, and no delivery holds a billion rows).
"""

from __future__ import annotations

MAX_DIGITS = 9


def parse_count(text: str) -> int | None:
    """The count written in ``text``, or None when it is not a plausible count."""
    value = text.strip()
    if not value or len(value) > MAX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)
