"""A delivery over the providers' HTTP API: the upload becomes a delivered file of the source and
is ingested exactly as a dropped file is (``pipeline.ingest.ingest_delivery``).

Why a file: the drop folder's path already does everything a delivery needs (connector, mapping,
field contract, pseudonymisation, ledger by content hash, receipt, archive, set-aside of a file
the hub cannot process), and a delivery the API process could not finish (it died) is finished
by the next sync run like any leftover. So the upload is written privately (0600) and atomically
(a hidden temporary file, synced, renamed) into the source's ``processing/`` folder, the hub's
alone, under a name made of its content hash (``api-<16 hex digits>.<suffix>``: never the
sender's file name, which may be made of a person's name), then claimed and ingested.

* Same content again: its receipt is answered without a second ingest (a delivery set aside as
  failed is read afresh, as a re-sent drop file is).
* ``Idempotency-Key``: kept as a hash with the content hash it stood for; the same key with
  other content is refused (``IdempotencyConflictError``, 409).
* A delivery above ``[api] async_bytes`` is written at once and ingested after the answer
  (202 and the receipt's address to poll); if the process dies first, the next sync takes it.
* The bytes a body delivers count per day (UTC) against ``[api] daily_bytes``
  (``DailyLimitError``, 429 with the seconds until the day ends).
* A busy database (locked, unreachable) before the upload is written is a TransientError (503
  with Retry-After); after, the upload waits in ``processing/`` and is answered 202.
* Linking is what it is for a dropped file: the next sync's link run takes the new records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import InterfaceError, OperationalError

from kim_hub.connectors.drop_folder import DropFolder
from kim_hub.connectors.provider_json import ProviderJsonConnector
from kim_hub.connectors.registry import load_connector
from kim_hub.core.access import Actor
from kim_hub.core.errors import BadInputError, TransientError
from kim_hub.hub_db.api_tokens import add_delivered_bytes, delivered_bytes, idempotency_content, remember_idempotency
from kim_hub.pipeline.api_tokens import TokenInfo
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import ClientCertificate, HubConfig, HubHome
from kim_hub.pipeline.ingest import file_readers, ingest_delivery
from kim_hub.pipeline.keys import encoding_keys
from kim_hub.pipeline.receipts import ReceiptSummary, receipts_of
from kim_hub.runtime.durability import sync_folder
from kim_hub.runtime.file_modes import make_private_folders

SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
DELIVERY_PREFIX = "api-"
log = logging.getLogger(__name__)
# deliveries ingested at once by one process, one per CPU; the others wait their turn. Run all
# together, 20 bodies' deliveries shared the interpreter and each took as long as the slowest.
_INGESTING = threading.BoundedSemaphore(os.cpu_count() or 2)


class IdempotencyConflictError(BadInputError):
    """The Idempotency-Key was used before for other content."""


class DailyLimitError(BadInputError):
    """The body delivered its day's bytes; ``retry_after``: seconds until the day (UTC) ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the body's delivery bytes of the day are used up")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    """Who calls the API: a body, by an active token or by its client certificate, with the
    scopes that credential carries. ``credential`` names it in the audit log and is the key of
    its rate limit: the token's id, or ``cert-`` and 8 hex digits of the certificate's subject."""

    body: str
    scopes: tuple[str, ...]
    credential: str

    @classmethod
    def of_token(cls, token: TokenInfo) -> Caller:
        return cls(token.body, tuple(token.scopes), str(token.id))

    @classmethod
    def of_certificate(cls, certificate: ClientCertificate) -> Caller:
        digest = hashlib.sha256(certificate.subject.encode("utf-8")).hexdigest()[:8]
        return cls(certificate.body, tuple(certificate.scopes), f"cert-{digest}")

    @property
    def actor(self) -> Actor:
        """The audit log's actor: ``api:<body>:<token id or cert-…>``."""
        return Actor("api", f"{self.body}:{self.credential}")


class Sender(Protocol):
    """Who delivers: a body and the actor the audit log names (a token's caller, or a provider's
    staff member on the web application's upload page)."""

    @property
    def body(self) -> str: ...

    @property
    def actor(self) -> Actor: ...


@dataclass(frozen=True)
class StaffSender:
    """A provider's staff member delivering for its body on the upload page (``web:<name>``)."""

    body: str
    actor: Actor


def sources_of(config: HubConfig, body: str) -> frozenset[str]:
    """The sources a body delivers and reads receipts of: as for the web application's provider
    role, a body is named by its source (``--org caritas`` reads source caritas' receipts)."""
    return frozenset({body}) if body in config.sources else frozenset()


@dataclass(frozen=True)
class Delivery:
    """What became of a delivery: its receipt, or None while it waits to be ingested (``key``
    addresses the receipt to poll)."""

    key: str
    receipt: ReceiptSummary | None
    ingest_later: Path | None = None  # the file to ingest after the answer (a large delivery)


def takes_json_batches(home: HubHome, source: str) -> bool:
    """Does the source read JSON batches of case records (a source of the standard provider
    export: ``pipeline.ingest.file_readers``)?"""
    settings = home.load_config().sources.get(source)
    if settings is None:
        return False
    return ProviderJsonConnector in file_readers([load_connector(name) for name in settings.connectors])


def delivery_name(content_hash: str, suffix: str) -> str:
    return f"{DELIVERY_PREFIX}{content_hash[:16]}{suffix}"


def deliver(home: HubHome, caller: Sender, source: str, data: bytes, suffix: str, idempotency_key: str | None) -> Delivery:
    """Take one delivery of ``caller``'s ``source`` (which the caller must own: checked by the
    route). A small one is ingested now and answered with its receipt; a large one is written
    and left for ``ingest_later`` (``Delivery.ingest_later``)."""
    config = home.load_config()
    suffix = suffix.lower() if SUFFIX.fullmatch(suffix.lower()) else ".csv"
    content_hash = hashlib.sha256(data).hexdigest()
    key = content_hash[:16]
    earlier = receipt_for(home, source, key)
    today = dt.datetime.now(dt.UTC).date()
    with _busy_is_transient(), open_sessions(home, config, caller.actor) as sessions, sessions() as session, session.begin():
        if idempotency_key is not None:
            key_hash = hashlib.sha256(idempotency_key.encode("utf-8", "surrogateescape")).hexdigest()
            stood_for = idempotency_content(session, caller.body, source, key_hash)
            if stood_for is not None and stood_for != content_hash:
                raise IdempotencyConflictError("the Idempotency-Key was used for another delivery")
            if stood_for is None:
                remember_idempotency(session, caller.body, source, key_hash, content_hash)
        if earlier is not None and earlier.status != "failed":
            return Delivery(key, earlier)  # the same content again: its receipt, nothing stored anew
        if pending(home, source, key):
            return Delivery(key, None)  # the same content waits to be ingested: poll its receipt
        if delivered_bytes(session, caller.body, today) + len(data) > config.api.daily_bytes:
            tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
            raise DailyLimitError(max(1, int((tomorrow - dt.datetime.now(dt.UTC)).total_seconds())))
        add_delivered_bytes(session, caller.body, today, len(data))
    path = _write_delivery(home, source, delivery_name(content_hash, suffix), data)
    if path is None:
        return Delivery(key, None)  # the same content is being ingested right now: poll its receipt
    if len(data) > config.api.async_bytes:
        return Delivery(key, None, ingest_later=path)
    return Delivery(key, ingest_now(home, caller, source, path, key))


def ingest_now(home: HubHome, caller: Sender, source: str, path: Path, key: str) -> ReceiptSummary | None:
    """Ingest a written delivery as the caller (its entry in the audit log's input channel names
    the caller); its receipt, or None when a sync run claimed it first (it writes the receipt)."""
    config = home.load_config()
    try:
        with _INGESTING, open_sessions(home, config, caller.actor) as sessions:
            done = ingest_delivery(home, config, source, path, encoding_keys(home, config), sessions)
    except (TransientError, OperationalError, InterfaceError):
        return None  # the database was busy: the file waits in processing/ for the next sync run
    return None if done is None else receipt_for(home, source, key)


def ingest_after_answer(home: HubHome, caller: Sender, source: str, path: Path, key: str) -> None:
    """A large delivery, ingested after the answer went out; a failure leaves it in processing/
    for the next sync run (the kind is logged, never a value)."""
    try:
        ingest_now(home, caller, source, path, key)
    except Exception as error:  # noqa: BLE001 - the next sync run takes the file
        log.warning("delivery of source %s left for the next sync run (%s)", source, type(error).__name__)


@contextmanager
def _busy_is_transient() -> Iterator[None]:
    """A locked or unreachable database before anything was written: the caller may retry."""
    try:
        yield
    except (OperationalError, InterfaceError):
        raise TransientError("the hub's database is busy; retry later") from None


def receipt_for(home: HubHome, source: str, key: str) -> ReceiptSummary | None:
    """The receipt of a delivery's content: the one that counted its rows, rather than the receipt
    of a later copy under another name (``duplicate``, with no counts), if both are there."""
    found = [r for r in receipts_of(home, source) if r.key == key]
    return next((r for r in found if r.status != "duplicate"), found[0] if found else None)


def pending(home: HubHome, source: str, key: str) -> bool:
    """Does a delivery with this receipt key wait in the source's drop path (inbox or processing)?"""
    folder = DropFolder.under(home.path, source)
    prefix = f"{DELIVERY_PREFIX}{key}."
    return any(
        p.name.startswith(prefix) for where in (folder.processing, folder.inbox) if where.is_dir() for p in where.iterdir()
    )


UPLOAD_PREFIX, UPLOAD_SUFFIX = ".api-upload-", ".part"
UNFINISHED_UPLOAD = f"{UPLOAD_PREFIX}*{UPLOAD_SUFFIX}"


def remove_unfinished_uploads(home: HubHome) -> int:
    """Remove what a process that died while writing an upload left behind (a hidden
    ``.api-upload-*.part`` in a source's processing/, which no run lists or ingests: clear data
    with no receipt, whose sender never got an answer). Called when `kim-hub web` starts, before
    it takes any upload, so none of them is still being written. Returns how many went."""
    removed = 0
    for source in home.load_config().sources:
        folder = DropFolder.under(home.path, source).processing
        if folder.is_dir():
            for leftover in folder.glob(UNFINISHED_UPLOAD):
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


def _write_delivery(home: HubHome, source: str, name: str, data: bytes) -> Path | None:
    """The upload as a file of ``processing/<source>/``: written under a hidden name (which no run
    lists), synced, renamed to ``name``; None if a file of that name (the same content) is there."""
    folder = DropFolder.under(home.path, source).processing
    make_private_folders(folder)
    target = folder / name
    if target.exists():
        return None
    # a new file (O_EXCL, 0600) under a hidden name no run lists: UNFINISHED_UPLOAD if it stays
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=UPLOAD_PREFIX, suffix=UPLOAD_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(folder)
    return target
