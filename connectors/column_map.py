"""Header names → the hub's canonical column names, loaded from a TOML file kept as data.

A provider that renames a column ("Nachname" instead of "family_name") is a one-line change in
``mappings/columns/provider_csv.toml``; no connector code is touched. Header matching ignores
case, surrounding whitespace, umlaut spelling (``Staatsangehörigkeit`` = ``staatsangehoerigkeit``)
and the choice between ``_``, ``-`` and spaces inside a name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from kim_hub.core.errors import ConfigError

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_header(name: str) -> str:
    """The comparison form of a header cell: ``" Staatsangehörigkeit "`` → ``staatsangehoerigkeit``."""
    folded = name.strip().casefold().translate(_UMLAUTS)
    return _SEPARATORS.sub("_", folded).strip("_")


@dataclass(frozen=True)
class ColumnMap:
    """Which header spellings mean which canonical column, and which columns a file must have."""

    aliases: Mapping[str, str]  # normalised header → canonical column name
    required: tuple[str, ...]
    canonical_columns: tuple[str, ...]

    @classmethod
    def from_dict(cls, columns: Mapping[str, Iterable[str]], required: Iterable[str]) -> ColumnMap:
        """Build a map from ``{canonical: [aliases…]}``; every canonical name is its own alias.

        Raises ConfigError when one spelling would mean two columns or a required column is not
        defined: a broken map must stop the run before it misfiles data.
        """
        aliases: dict[str, str] = {}
        for canonical, spellings in columns.items():
            for spelling in (canonical, *spellings):
                key = normalise_header(spelling)
                if not key:
                    raise ConfigError(f"column map: empty header spelling for column {canonical!r}")
                if aliases.get(key, canonical) != canonical:
                    raise ConfigError(f"column map: header {spelling!r} is listed for both {aliases[key]!r} and {canonical!r}")
                aliases[key] = canonical
        required_columns = tuple(required)
        for column in required_columns:
            if column not in columns:
                raise ConfigError(f"column map: required column {column!r} is not defined")
        return cls(MappingProxyType(aliases), required_columns, tuple(columns))

    @classmethod
    def from_toml(cls, path: Path) -> ColumnMap:
        """Load a map file: ``required = [...]`` and a ``[columns]`` table of alias lists."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"column map {path}: cannot be read ({exc.__class__.__name__})") from exc
        columns = data.get("columns")
        if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
            raise ConfigError(f"column map {path}: [columns] must map each column to a list of aliases")
        return cls.from_dict(columns, data.get("required", []))

    def canonical(self, header: str) -> str | None:
        """The canonical column a header cell stands for, or None if the hub does not know it."""
        return self.aliases.get(normalise_header(header))


@lru_cache(maxsize=1)
def provider_csv_column_map() -> ColumnMap:
    """The column map of the standard provider export, shipped in ``mappings/columns/``."""
    resource = resources.files("kim_hub.mappings").joinpath("columns", "provider_csv.toml")
    with resources.as_file(resource) as path:
        return ColumnMap.from_toml(Path(path))
