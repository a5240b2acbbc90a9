"""The installed plug-ins of an entry-point group, read once per process.

``importlib.metadata.entry_points`` reads the metadata of every installed distribution, hundreds
with Prefect's tree: about a tenth of a second each time on an idle machine, and it was asked
several times per command (each source's connector, each mapping, each record-id check). What is
installed does not change while a process runs, so the answer is kept.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points


@cache
def installed(group: str) -> dict[str, EntryPoint]:
    """Name → entry point of every plug-in installed in ``group``."""
    return {ep.name: ep for ep in entry_points(group=group)}
