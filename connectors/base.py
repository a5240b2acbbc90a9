"""The connector contract: what every source adapter hands to the hub.

A connector reads bytes from where a source delivers them and returns rows as plain strings,
numbered as the sender would count them, plus rejections for what it could not read. It knows no
database, no keys and no mapping: turning a row into a case summary is the mapping's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable


def read_delivery(path: Path) -> tuple[bytes, FileBatch]:
    """A delivered file's bytes and an empty batch keyed by their SHA-256 (the ledger's key).

    Only an unreadable file raises (BadInputError); bad *content* is the connector's to reject.
    """
    from kim_hub.connectors.errors import BadInputError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path.name}: file cannot be read ({exc.__class__.__name__})") from exc
    return data, FileBatch(path=path, content_hash=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Rejection:
    """Why a file or a row was not accepted. ``reason`` never contains the rejected value."""

    file: str
    row: int | None
    field: str | None
    reason: str

    def describe(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class RawRow:
    """One data row of a delivered file, keyed by canonical column name."""

    file: str
    row_number: int  # 1-based line number in the file, header = 1
    fields: dict[str, str]


@dataclass
class FileBatch:
    """Everything a connector read from one delivered file."""

    path: Path
    content_hash: str
    rows: list[RawRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    rejected_whole: bool = False


@dataclass(frozen=True)
class HealthResult:
    """Whether the API is reachable and accepts the token; ``detail`` is for people."""

    ok: bool
    detail: str


@runtime_checkable
class FileConnector(Protocol):
    """A source that delivers files into its inbox (provider CSV, job-centre export, ABH XML).

    ``read_file`` never raises for bad content: what it cannot use becomes rejections. An
    optional ``accepts(path)`` lets several connectors share one inbox.
    """

    name: ClassVar[str]
    row_format: ClassVar[str]
    file_suffixes: ClassVar[tuple[str, ...]]

    @classmethod
    def read_file(cls, path: Path) -> FileBatch: ...


@runtime_checkable
class PullConnector(Protocol):
    """A source the hub asks (a REST API). State (the cursor) is data the hub keeps and passes
    in; ``check`` returns a HealthResult instead of raising."""

    name: ClassVar[str]
    row_format: ClassVar[str]
    config_model: ClassVar[type]

    def pull(self, state: Mapping[str, Any]) -> Any: ...

    def check(self) -> HealthResult: ...
