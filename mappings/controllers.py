"""The controllers of one platform, as data: their data-protection regimes and supervisors (SDM module 50).

The hub is shared IT of several controllers: the municipality, the job centre and each charity
stay controllers of their own data, under different law and different supervisory authorities.
To keep them apart and to tell each its own share of an incident, every source names its
controller in hub.toml (``[controllers.<name>]``: ``regime``, ``supervisor``), and both come
from closed lists kept as data:

    codes/data_protection_regimes.csv   code, name, law, notification: the law a controller
                                        answers to and its rule for notifying a breach
    codes/supervisory_authorities.csv   code, name, regimes (``|``-separated: the regimes it may
                                        supervise), description
    codes/controllers.csv               the controllers ``kim-hub init`` declares: code, name,
                                        regime, supervisor, default_for (the default sources
                                        each answers for, ``|``-separated), description

A controller's supervisor must be competent for its regime: the Catholic data protection centre
supervises KDG bodies only, the BfDI the joint job centres' social data only. The lists are a
starting point for the data-protection officers, not legal advice; an installation with other
bodies declares its own controllers in hub.toml with codes from the first two lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from kim_hub.core.errors import ConfigError
from kim_hub.mappings.codelists import code_rows

__all__ = [
    "DefaultController",
    "Regime",
    "Supervisor",
    "check_controller",
    "default_controller_for",
    "default_controllers",
    "regime",
    "regimes",
    "supervisor",
    "supervisors",
]


@dataclass(frozen=True)
class Regime:
    """One data-protection regime: the law a controller answers to, and its breach-notification rule."""

    code: str
    name: str
    law: str
    notification: str


@dataclass(frozen=True)
class Supervisor:
    """One supervisory authority and the regimes it may supervise."""

    code: str
    name: str
    regimes: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class DefaultController:
    """A controller ``kim-hub init`` declares, and the default sources it answers for."""

    code: str
    name: str
    regime: str
    supervisor: str
    default_for: tuple[str, ...]
    description: str = ""


def _rows(name: str) -> list[dict[str, str]]:
    return list(code_rows(resources.files("kim_hub.mappings").joinpath("codes", name).read_text(encoding="utf-8")))


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


@lru_cache(maxsize=1)
def regimes() -> dict[str, Regime]:
    """``codes/data_protection_regimes.csv`` by code, in file order."""
    found: dict[str, Regime] = {}
    for row in _rows("data_protection_regimes.csv"):
        if row["code"] in found or not (row["name"] and row["law"] and row["notification"]):
            raise ConfigError("codes/data_protection_regimes.csv: each code once, with its name, law and notification rule")
        found[row["code"]] = Regime(row["code"], row["name"], row["law"], row["notification"])
    return found


@lru_cache(maxsize=1)
def supervisors() -> dict[str, Supervisor]:
    """``codes/supervisory_authorities.csv`` by code, in file order; each names known regimes only."""
    found: dict[str, Supervisor] = {}
    for row in _rows("supervisory_authorities.csv"):
        supervised = _split(row["regimes"])
        if row["code"] in found or not row["name"] or not supervised or not set(supervised) <= set(regimes()):
            raise ConfigError(
                "codes/supervisory_authorities.csv: each code once, with its name and the regimes of "
                "codes/data_protection_regimes.csv it supervises"
            )
        found[row["code"]] = Supervisor(row["code"], row["name"], supervised, row["description"])
    return found


@lru_cache(maxsize=1)
def default_controllers() -> dict[str, DefaultController]:
    """``codes/controllers.csv`` by code: what ``kim-hub init`` declares. Each one's regime and
    supervisor are of the lists and fit together, and no source is claimed by two."""
    found: dict[str, DefaultController] = {}
    claimed: set[str] = set()
    for row in _rows("controllers.csv"):
        sources = _split(row["default_for"])
        check_controller(row["regime"], row["supervisor"])
        if row["code"] in found or not row["name"] or claimed & set(sources):
            raise ConfigError("codes/controllers.csv: each code once, with its name; each default source under one controller")
        claimed |= set(sources)
        found[row["code"]] = DefaultController(
            row["code"], row["name"], row["regime"], row["supervisor"], sources, row["description"]
        )
    return found


def default_controller_for(source: str) -> str | None:
    """The default controller that answers for a default source of ``kim-hub init``; None for any other."""
    return next((c.code for c in default_controllers().values() if source in c.default_for), None)


def regime(code: str) -> Regime:
    """The regime ``code`` names; a ValueError naming the known codes (never the unknown one)."""
    found = regimes().get(code)
    if found is None:
        raise ValueError(f"regime must be one of {_known(regimes())}")
    return found


def supervisor(code: str) -> Supervisor:
    """The supervisory authority ``code`` names; a ValueError naming the known codes (never the unknown one)."""
    found = supervisors().get(code)
    if found is None:
        raise ValueError(f"supervisor must be one of {_known(supervisors())}")
    return found


def check_controller(regime_code: str, supervisor_code: str) -> None:
    """Both codes of the lists, and the supervisor competent for the regime: a ValueError that
    names known codes only (which supervisors are competent for the regime)."""
    regime(regime_code)
    authority = supervisor(supervisor_code)
    if regime_code not in authority.regimes:
        competent = [s.code for s in supervisors().values() if regime_code in s.regimes]
        raise ValueError(
            f"the supervisor {authority.code!r} does not supervise the regime {regime_code!r} "
            f"(competent: {', '.join(repr(c) for c in competent)})"
        )


def _known(codes: Iterable[str]) -> str:
    return ", ".join(repr(code) for code in codes)
