"""What the leak scans read: the hub database value by value, and text without sealed values.

A sealed encoding (``linkage.sealed``) is base64 of AES-GCM output: among megabytes of random
letters and digits a five-letter name turns up by chance (CI saw "…ezW9Maxim1pBb…"), which says
nothing about the name. Read as file bytes, a long sealed value also spills over SQLite's overflow
pages, and its continuation after a page header has lost its prefix, so it cannot be told apart.
Dumped as SQL, each value is whole (and the index snapshot's binary pieces are hex, which spells
no name), so the sealed values can be cut out by their prefix and everything else scanned.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from kim_hub.linkage.sealed import SEALED_PREFIX

SEALED_VALUE = re.compile(re.escape(SEALED_PREFIX) + r"[A-Za-z0-9+/=]+")


def database_values(path: Path) -> bytes:
    """A SQLite database as its SQL dump: every value whole, in text."""
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump()).encode()


def without_sealed_values(text: str) -> str:
    """``text`` with every sealed encoding blanked out."""
    return SEALED_VALUE.sub(" ", text)
