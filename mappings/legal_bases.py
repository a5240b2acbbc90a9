"""The legal bases a source may deliver under, as data, and how far each one reaches.

Charities share on consent; the job centre's export and the authority's messages come under
statutes that allow linkage and transfer between the bodies named in them, not KIM case
coordination. What the hub may keep and list about a person follows from that
(``exchange.legal_basis``), so every source names its basis in hub.toml (``legal_basis``) and
the name must be one of a closed list: ``codes/legal_bases.csv`` as shipped, plus the statutes an
installation's data-protection officers established and declared under ``[legal_bases]``.

    code         ``consent``, or ``statute:`` and the provision (``statute:SGB II § 50``);
                 matched ignoring case and spaces
    covers       ``consent``: each record's consent decides (only ``consent`` itself);
                 ``kim``: the statute covers KIM case coordination (person-level listings) by
                 itself; ``linkage``: linkage and transfer only — a person known only from such
                 sources is never listed, and their records are purged after ``linkage_only_days``
    default_for  the default sources of ``kim-hub init`` that deliver under it (``|``-separated);
                 every other source: ``consent``
    law          the provision, for people
    description  what it allows, and which source delivers under it

The shipped list names no statute that covers KIM case coordination: none is known to the
project. It is a starting point for the data-protection officers, not legal advice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, get_args

from kim_hub.core.errors import ConfigError
from kim_hub.mappings.codelists import code_rows

Covers = Literal["consent", "kim", "linkage"]
StatuteCovers = Literal["kim", "linkage"]
CONSENT = "consent"
STATUTE = "statute:"
MAX_CODE_CHARS = 120
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LegalBasis:
    """One legal basis of the list and how far it reaches."""

    code: str
    covers: Covers
    law: str = ""
    description: str = ""
    default_for: tuple[str, ...] = ()

    @property
    def covers_kim(self) -> bool:
        """Does the basis alone let the hub hold and list the source's persons for KIM?"""
        return self.covers == "kim"

    @property
    def linkage_only(self) -> bool:
        """A statute for linkage and transfer only: its records go unless the person is held otherwise."""
        return self.covers == "linkage"


def basis_key(code: str) -> str:
    """What two spellings of one basis share: case and spaces ignored (``statute:SGB II §50``)."""
    return _SPACE.sub("", code).casefold()


@lru_cache(maxsize=1)
def shipped_legal_bases() -> dict[str, LegalBasis]:
    """``codes/legal_bases.csv`` by ``basis_key``."""
    text = resources.files("kim_hub.mappings").joinpath("codes", "legal_bases.csv").read_text(encoding="utf-8")
    bases: dict[str, LegalBasis] = {}
    for row in code_rows(text):
        covers = row["covers"]
        if covers not in get_args(Covers):
            raise ConfigError("codes/legal_bases.csv: covers must be consent, kim or linkage")
        defaults = tuple(name.strip() for name in row["default_for"].split("|") if name.strip())
        bases[basis_key(row["code"])] = LegalBasis(row["code"], covers, row["law"], row["description"], defaults)  # type: ignore[arg-type]
    return bases


def default_legal_basis(source: str) -> str:
    """What ``kim-hub init`` declares for a default source: the shipped statute naming it in
    ``default_for`` (the job centre, the authority), else ``consent``."""
    return next((basis.code for basis in shipped_legal_bases().values() if source in basis.default_for), CONSENT)


def check_declared(declared: Mapping[str, str]) -> None:
    """An installation's own statutes (hub.toml ``[legal_bases]``): each a ``statute:`` code of
    printable text, covering ``kim`` or ``linkage``, and none a shipped one restated (the
    shipped list says how far those reach)."""
    for code, covers in declared.items():
        if (
            not code.startswith(STATUTE)
            or len(code) > MAX_CODE_CHARS
            or not code.isprintable()
            or not code[len(STATUTE) :].strip()
        ):
            raise ValueError(
                f"a declared legal basis is 'statute:' and the provision, printable, at most {MAX_CODE_CHARS} characters"
            )
        if covers not in get_args(StatuteCovers):
            raise ValueError(
                "a declared legal basis covers 'kim' (KIM case coordination) or 'linkage' (linkage and transfer only)"
            )
        if basis_key(code) in shipped_legal_bases():
            raise ValueError("a declared legal basis may not restate one of the shipped list (mappings/codes/legal_bases.csv)")


def legal_basis(code: str, declared: Mapping[str, str] | None = None) -> LegalBasis:
    """The basis ``code`` names, from the shipped list or the installation's declared statutes;
    a ValueError naming the known codes (never the unknown one) for any other."""
    known = dict(shipped_legal_bases())
    for own, covers in (declared or {}).items():
        known[basis_key(own)] = LegalBasis(own, covers, own, "declared in hub.toml [legal_bases]")  # type: ignore[arg-type]
    found = known.get(basis_key(code))
    if found is None:
        names = ", ".join(repr(basis.code) for basis in known.values())
        raise ValueError(f"legal_basis must be one of {names} (or a statute declared under [legal_bases])")
    return found


__all__ = ["CONSENT", "LegalBasis", "basis_key", "check_declared", "default_legal_basis", "legal_basis", "shipped_legal_bases"]
