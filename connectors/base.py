"""The connector contract: what every source adapter hands to the hub, declared small.

A connector reads bytes from where a source delivers them and returns rows as plain strings,
numbered as the sender would count them, plus rejections for what it could not read. It knows no
database, no keys and no mapping: turning a row into a case summary is the job of the mapping
registered for the connector's ``row_format`` (``kim_hub.mappings.registry``).

There are two kinds, each a Protocol that a connector class subclasses explicitly, so that it
inherits the defaults of the optional members and a type checker holds it to the rest:

    FileConnector   files dropped into an inbox: read_file(path) → FileBatch
    PullConnector   a source the hub asks (an API): pull(state) → PullResult, check() → HealthResult

A municipality's own connector is a class in its own package, registered under the entry-point
group ``kim_hub.connectors`` (and its mapping under ``kim_hub.mappings`` when it brings a new row
format); nothing in the hub is edited. ``example_delivery`` gives the standard connector test suite
(``tests/test_connector_contract.py``) a small delivery of synthetic persons in the connector's
own format, so every installed connector is tested on its own data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self

from kim_hub.core.errors import BadInputError
from kim_hub.core.rows import FileBatch, HealthResult


def file_hash(path: Path) -> str:
    """The SHA-256 of a delivered file (the ledger's key), read in chunks; BadInputError if the
    file cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise BadInputError(f"{path.name}: file cannot be read ({exc.__class__.__name__})") from exc


def read_delivery(path: Path) -> tuple[bytes, FileBatch]:
    """A delivered file's bytes and an empty batch keyed by their SHA-256 (the ledger's key).

    Only an unreadable file raises (BadInputError); bad *content* is the connector's to reject.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path.name}: file cannot be read ({exc.__class__.__name__})") from exc
    return data, FileBatch(path=path, content_hash=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class ExamplePerson:
    """A synthetic person for a connector's example delivery, as a sender would have typed it.

    ``birth_date`` is ISO ``YYYY-MM-DD`` text and is written as it is, in the connector's own
    notation: the standard test suite also plants impossible dates to see them rejected.
    """

    record_id: str
    family_name: str
    given_names: str
    birth_date: str


EXAMPLE_PERSONS = (
    ExamplePerson("E-1", "Haddad", "Samira", "1988-03-14"),
    ExamplePerson("E-2", "Testova", "Marta", "1975-11-02"),
)


def line_breaks(path: Path, chunk: int = 1 << 20) -> int:
    """How many line breaks a file holds, read in chunks (what a text format's ``estimated_rows``
    counts: a quoted field with a line break in it makes the estimate a little high)."""
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            count += block.count(b"\n")
    return count


class FileConnector(Protocol):
    """A source that delivers files into its inbox (provider CSV, job-centre export, ABH XML).

    ``read_file`` never raises for bad content: what it cannot use becomes rejections. Several
    connectors may share one inbox; the first whose ``accepts`` takes a file reads it.
    """

    kind: ClassVar[Literal["file"]] = "file"
    name: ClassVar[str]
    row_format: ClassVar[str]
    file_suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    # the delivery lists everyone the source currently serves: an absence is an Abgang, not an erasure
    full_snapshot: ClassVar[bool] = False
    # its record ids are identifiers of the person (the job centre's Kundennummer): a source with
    # this connector has its record ids kept encrypted unless hub.toml says otherwise
    identifying_record_ids: ClassVar[bool] = False

    @classmethod
    def read_file(cls, path: Path) -> FileBatch: ...

    @classmethod
    def stream_file(cls, path: Path) -> FileBatch:
        """What the ingest reads a delivery with: a batch whose rows may be a ``stream`` read as
        they are taken, so a big delivery is never held whole. By default ``read_file``."""
        return cls.read_file(path)

    @classmethod
    def estimated_rows(cls, path: Path) -> int | None:
        """About how many rows the file holds, found cheaply before it is read (for a progress
        bar's time left, never for a count the hub keeps); None: not known before reading. By
        default not known."""
        return None

    @classmethod
    def accepts(cls, path: Path) -> bool:
        """Does this connector read this file? By default: its suffix is one of ``file_suffixes``."""
        return path.suffix.lower() in cls.file_suffixes

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """Write a delivery of these persons in the connector's own format into ``folder``."""
        ...


class ConnectorConfig(Protocol):
    """A pull connector's typed settings, built from its source's ``options`` in hub.toml."""

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> Self: ...


@dataclass
class PullResult:
    """What one pull read, and the state to store once the batch has been stored."""

    batch: FileBatch
    state: dict[str, Any]


class PullConnector(Protocol):
    """A source the hub asks (a REST API). State (the cursor) is data the hub keeps and passes in;
    ``check`` returns a HealthResult instead of raising.

    A connector that can also deliver documents to its body (``pushes = True``) is used by the
    push step instead of the body's outbox folder.
    """

    kind: ClassVar[Literal["pull"]] = "pull"
    name: ClassVar[str]
    row_format: ClassVar[str]
    config_model: ClassVar[type[ConnectorConfig]]
    pushes: ClassVar[bool] = False
    identifying_record_ids: ClassVar[bool] = False  # as for FileConnector

    def __init__(self, config: Any) -> None: ...

    def pull(self, state: Mapping[str, Any]) -> PullResult: ...

    def check(self) -> HealthResult:
        """Can the source be reached? By default nothing is checked beyond loading."""
        return HealthResult(True, "installed")

    def push(self, documents: Sequence[Mapping[str, Any]]) -> object:
        """Deliver summaries and notices to the body (only where ``pushes`` is true)."""
        raise NotImplementedError(f"connector {self.name} does not push")

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> PullConnector:
        """A connector that pulls a delivery of these persons from an in-memory source (no network)."""
        ...


Connector = type[FileConnector] | type[PullConnector]
