"""Mappings are found through the ``kim_hub.mappings`` entry-point group, one per row format.

A connector declares the ``row_format`` of the rows it reads; the mapping registered under that
name turns each row into a ``CaseSummary`` (or the row's rejections). A municipality's connector
with a new row format ships its mapping the same way, so neither is ever wired up in hub code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from kim_hub.core.errors import ConfigError
from kim_hub.core.plugins import installed
from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.case_summary import CaseSummary

ENTRY_POINT_GROUP = "kim_hub.mappings"

RowMapper = Callable[[str, RawRow], "CaseSummary | list[Rejection]"]


def available_mappings() -> set[str]:
    """The row formats an installed mapping reads."""
    return set(installed(ENTRY_POINT_GROUP))


@cache
def load_mapping(row_format: str) -> RowMapper:
    """The mapping registered for ``row_format``: ``(source, row) → CaseSummary | rejections``."""
    found = installed(ENTRY_POINT_GROUP)
    if row_format not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"no mapping for row format {row_format!r} (installed: {known})")
    try:
        mapper = found[row_format].load()
    except Exception as exc:  # noqa: BLE001 - a broken plug-in is a configuration problem, named by kind
        raise ConfigError(f"mapping {row_format!r} cannot be loaded ({type(exc).__name__})") from None
    if not callable(mapper):
        raise ConfigError(f"mapping {row_format!r} is not a function (source, row) → CaseSummary | rejections")
    return mapper  # type: ignore[no-any-return]  # checked just above
