"""Cells of a CSV file people open in a spreadsheet: never run as a formula.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and one
that starts with a tab or a carriage return as well, once it has dropped the whitespace; a
formula such as ``=HYPERLINK(…)`` then acts on the reader's machine. Every CSV the hub writes for
people (the monitoring export, the links export, the summaries table of an outbox) passes its
cells through ``spreadsheet_safe``, which prefixes such a cell with ``'``, the spreadsheet's own
"this is text" mark (OWASP, CSV Injection). It lives in the kernel because three rooms write such
files and none of them may import another for it.
"""

from __future__ import annotations

from typing import overload

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
"""First characters that make a spreadsheet read a cell as a formula (OWASP: = + - @ tab CR;
line feed and NUL as well, which some readers strip in front of a formula)."""


@overload
def spreadsheet_safe(cell: str) -> str: ...


@overload
def spreadsheet_safe(cell: object) -> object: ...


def spreadsheet_safe(cell: object) -> object:
    """``cell`` as it may stand in a CSV file: a text starting with a formula trigger gets a
    leading ``'``; anything else (numbers, None, other text) is returned as it is.

    A carriage return inside a text becomes a line feed first: the hub's CSV files end their
    lines with ``\n``, and Python's writer then leaves a lone CR unquoted, where a spreadsheet
    starts a new row (whose first cell could be a formula). A line feed is quoted."""
    if not isinstance(cell, str):
        return cell
    text = cell.replace("\r", "\n")
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


__all__ = ["FORMULA_TRIGGERS", "spreadsheet_safe"]
