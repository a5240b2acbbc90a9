"""The hub's tables. No column holds clear identity: identity lives only as keyed encodings.

source_records   one row per (source, record_id): case data, encodings (sealed), key id, content hash
link_queue       records waiting for the next link run (new, changed, or re-queued)
persons          random pseudonyms; a merged person is retired, never deleted
links            record → person, with status and score
link_events      every create / merge / split / move of a person, with before and after
ingest_files     the ledger: one row per delivered file (by content hash) and its counts
rejected_rows    receipts for rows that did not land: file, row, field, reason (no values)
model_versions   learnt linkage parameters, versioned
review_items     pairs between the thresholds, awaiting a coordinator's decision
review_pending   a decision on a review item that waits for a second reviewer (four eyes)
record_events    dated changes per record (status messages, Abgang/Zugang): the Rechtskreis history
transfers        what was sent to which recipient record (content hash: only changes are sent)
held_documents   documents held for a body that collects them over the API, until it acknowledges them
audit_log        append-only, hash-chained per channel: reads, inputs, changes, transfers, admin
audit_checkpoints  what retention removed from the audit log, sealed so the chain still verifies
source_states    connector cursors (REST updated_since), committed with their records
index_segments   the index's encodings as raw column bytes, sealed (a cache for link runs: hub_db/index_snapshot)
index_changes    random tokens a trigger writes when source_records change (is a kept index current: hub_db/kept_index)
learnt_given_names  given-name equivalences learnt from confirmed pairs: keyed token pairs, sealed (hub_db/learnt_names)
erasure_state    the last tombstone of the erasure ledger (a file, hub_db/erasure_ledger) applied here
web_users        the web application's local accounts: name, role, granted bodies and districts, argon2 hash
web_sessions     signed-in sessions: a hash of the cookie's random id (never the id), the form token, times
web_sign_in_failures  recent failed sign-ins by the SHA-256 of the account or the address (rate limiting)
web_second_factors  a local account's TOTP secret, sealed with a key kept outside the database, and its last used step
api_tokens       the providers' API tokens: body, scopes, times; the SHA-256 of the token, never the token
api_idempotency  an API delivery's Idempotency-Key (its SHA-256) and the content it stood for
api_delivery_days  bytes delivered over the API per body and day (the daily limit)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """The model's table (``Model.__table__`` is typed as any FromClause; this is what it is)."""
    return Base.metadata.tables[model.__tablename__]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SourceRecord(Base):
    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "record_id", name="uq_source_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[str] = mapped_column(String(400), doc="the source's id, or the hub's token of it (linkage.record_ids)")
    case_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    encoding: Mapped[str] = mapped_column(
        Text, doc="RecordEncoding as JSON (keyed tokens only), sealed at rest: gcm1: + base64 (linkage.sealed)"
    )
    key_id: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64), doc="keyed hash of the mapped row")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_files.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class LinkQueueEntry(Base):
    """A record waiting for the next link run.

    A narrow table of its own rather than a flag on the wide ``source_records`` row: SQLite
    rewrites a whole row to change one column, so clearing a first run's million flags rewrote
    every stored encoding (gigabytes of write-ahead log); deleting small rows does not."""

    __tablename__ = "link_queue"

    record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"), primary_key=True)


class RecordEvent(Base):
    __tablename__ = "record_events"
    __table_args__ = (UniqueConstraint("record_id", "kind", "occurred_on", name="uq_record_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), doc="statusaenderung, wegzug, einbuergerung, abgang, zugang, …")
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, doc="residence_status / rechtskreis after the event")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))


class Link(Base):
    __tablename__ = "links"

    record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), doc="auto | review | manual | single")
    score: Mapped[float | None] = mapped_column(Float, doc="match probability of the link that joined it")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class LinkEvent(Base):
    __tablename__ = "link_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), doc="create | merge | split | move")
    before: Mapped[list[str]] = mapped_column(JSON, doc="pseudonyms before")
    after: Mapped[list[str]] = mapped_column(JSON, doc="pseudonyms after")
    records: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IngestFile(Base):
    __tablename__ = "ingest_files"
    __table_args__ = (UniqueConstraint("source", "content_hash", name="uq_source_file_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), doc="done | rejected")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_noted: Mapped[int] = mapped_column(Integer, default=0, server_default="0", doc="rows that landed with notes")
    unknown_columns: Mapped[list[str]] = mapped_column(JSON, default=list, doc="header names the mapping ignored")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RejectedRow(Base):
    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("ingest_files.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    row_number: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RowNote(Base):
    """What the field contract did with one value of a row that landed (never the value)."""

    __tablename__ = "row_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("ingest_files.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    row_number: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_record: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"), index=True)
    recipient_source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), doc="summary | withdrawal | correction")
    content_hash: Mapped[str] = mapped_column(String(64))
    consent_of: Mapped[list[str]] = mapped_column(JSON, doc="sources whose records' consent covered it")
    origins: Mapped[list[int]] = mapped_column(JSON, default=list, doc="hub keys of the records it was built from")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HeldDocument(Base):
    """A summary or notice the push planned for a body that collects its documents over the
    hub's API (``[sources.<body>] summaries = "collect"``), held until the body acknowledges it.

    ``document`` is addressed by the stored record id (the token of an encrypting source), like
    everything else the hub keeps of a transfer; it is emptied once the document is acknowledged
    or no longer due. ``seq`` is the body's paging cursor, ``document_id`` the random id the body
    acknowledges by. The transfer is recorded only at acknowledgement (``hub_db.collection``)."""

    __tablename__ = "held_documents"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(32), unique=True)
    body: Mapped[str] = mapped_column(String(64), index=True)
    recipient_record: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), doc="summary | withdrawal | correction | erasure")
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, doc="None once acknowledged or withdrawn")
    consents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, doc="the consents the transfer relies on")
    origins: Mapped[list[int]] = mapped_column(JSON, default=list, doc="hub keys of the records it was built from")
    state: Mapped[str] = mapped_column(String(16), doc="held | superseded | acknowledged")
    held_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    collected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """One entry of the append-only audit log, sealed into its channel's chain (hub_db/audit_log.py).

    Database triggers refuse to change an entry, and to delete one that no retention checkpoint
    covers; the chain shows what gets past them."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("channel", "seq", name="uq_audit_channel_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), doc="read | change | input | transfer | admin: one chain each")
    seq: Mapped[int] = mapped_column(Integer, doc="the entry's place in its channel's chain, from 1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128), doc="kind:name, e.g. os:alice (core.access.Actor)")
    action: Mapped[str] = mapped_column(String(48), index=True, doc="review.list, ingest.file, transfer.summary, …")
    objects: Mapped[list[str]] = mapped_column(JSON, doc="pseudonymous: record:<source>:<token>, person:<pseudonym>, …")
    purpose: Mapped[str | None] = mapped_column(String(120), doc="why person-level data was read")
    case_ref: Mapped[str | None] = mapped_column(String(64), doc="the case (Aktenzeichen) it was read for")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, doc="counts, consents, content hashes — never identity or content")
    mac: Mapped[str] = mapped_column(String(64), doc="HMAC of the previous entry's mac and this entry's content")


class AuditCheckpoint(Base):
    """Retention removed entries 1..upto_seq of a channel; the first entry left chains to chain_mac."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    upto_seq: Mapped[int] = mapped_column(Integer)
    chain_mac: Mapped[str] = mapped_column(String(64), doc="mac of entry upto_seq")
    purged: Mapped[int] = mapped_column(Integer, doc="entries removed by this purge")
    before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), doc="entries older than this were due")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    mac: Mapped[str] = mapped_column(String(64), doc="HMAC of the checkpoint's content: only the key makes one")


class SourceState(Base):
    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, doc="connector cursor, e.g. updated_since")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_count: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("record_a", "record_b", name="uq_review_pair"),
        Index("ix_review_items_queue", "status", "score", "id"),  # by probability, read backwards (migration 0014)
        Index("ix_review_items_stake", "status", "stake", "score", "id"),  # the queue's order, read backwards (0015)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_a: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"))
    record_b: Mapped[int] = mapped_column(ForeignKey("source_records.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    stake: Mapped[float] = mapped_column(
        Float, default=0.0, server_default="0", doc="what a decision would change: hub_db.master_index.decision_stake"
    )
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open", doc="open | same | different")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(32), doc="why it was decided: a code of hub_db.review.REASONS")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    weights: Mapped[dict[str, float] | None] = mapped_column(
        JSON, doc="per field, what it added to the match weight (log2 Bayes factor) when the pair was scored"
    )
    assigned_to: Mapped[str | None] = mapped_column(String(128), doc="the reviewer working on it (an actor: web:anna)")
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    postponed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), doc="set aside; None: in the queue")
    postponed_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), doc="back in the queue from then on; None with postponed_at: until taken back"
    )


class PendingDecision(Base):
    """A review decision (or undo) that touches a person whose summaries already went to another
    body: recorded here instead of applied, until a second reviewer confirms or rejects it. Goes
    with its item (a linking run drops an open item whose pair is no longer uncertain)."""

    __tablename__ = "review_pending"

    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), doc="same | different | undo")
    reason: Mapped[str | None] = mapped_column(String(32), doc="a code of hub_db.review.REASONS")
    requested_by: Mapped[str] = mapped_column(String(110), doc="the first reviewer, as the audit log names actors")
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IndexSegment(Base):
    """One piece of one column of the columnar index snapshot (keyed encodings only, no ids in clear),
    sealed like the records' encodings (hub_db.index_snapshot)."""

    __tablename__ = "index_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, index=True, doc="0 = the whole index; later ones override by record")
    field: Mapped[str] = mapped_column(String(32), doc="an EncodingArrays column, _digest, or _meta")
    part: Mapped[int] = mapped_column(Integer, doc="order of the pieces of one column")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LearntGivenNames(Base):
    """The given-name equivalences the last link run learnt and applied (``linkage.learnt_names``):
    pairs of keyed tokens, sealed with the key version in ``key_id`` (hub_db.learnt_names)."""

    __tablename__ = "learnt_given_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IndexChange(Base):
    """A mark that what the index is loaded from changed: written by triggers on ``source_records``
    (migration 0013) and, for inserts on SQLite, by the code storing records (``hub_db.index_changes``),
    pruned by link runs. Its rows' count and tokens tell a process that keeps the
    index loaded (``hub_db.kept_index``) whether it is still current."""

    __tablename__ = "index_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class ErasureMark(Base):
    """How far this database follows the erasure ledger: the sequence of the last tombstone that
    was applied to it, data and copies alike. A restored backup brings back its own, older mark,
    and every tombstone after it is applied again (pipeline.tombstones). One row."""

    __tablename__ = "erasure_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class WebUser(Base):
    """An account of the web application (an employee, never a person of the index): local, or a
    user of the OpenID provider (named ``oidc-`` + a hash of issuer and subject, with a
    ``password_hash`` that no password matches; ``pipeline.web_sessions.sign_in_external``)."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16), doc="reviewer | coordinator | provider | operator | auditor")
    organisations: Mapped[list[str]] = mapped_column(JSON, default=list, doc="the bodies (sources) granted")
    districts: Mapped[list[str]] = mapped_column(JSON, default=list, doc="the district codes granted")
    password_hash: Mapped[str] = mapped_column(
        String(255), doc="argon2id, with its parameters and salt; !oidc for the provider's users"
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WebSession(Base):
    """A signed-in browser: the SHA-256 of the cookie's random id (a stolen table signs nobody
    in), the synchronizer token of its forms, and the times the idle and absolute limits need."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WebSecondFactor(Base):
    """A local account's second factor (TOTP, RFC 6238): its secret sealed with AES-GCM under the
    key file ``web-totp.key`` (never in clear here; ``pipeline.web_totp``), and the time step of
    the last code accepted, so no code is accepted twice."""

    __tablename__ = "web_second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), primary_key=True)
    sealed_secret: Mapped[str] = mapped_column(String(255), doc="gcm1- + base64(nonce + ciphertext), bound to the account")
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True, doc="the 30-second step of the last accepted code")
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SignInFailure(Base):
    """One failed sign-in, by the SHA-256 of the account name or of the address tried from."""

    __tablename__ = "web_sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ApiToken(Base):
    """A body's token for the providers' API (``pipeline.api_tokens``): the SHA-256 of the token
    (random, 256 bits: a stolen table lets nobody in), the body and the operations it may call."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(String(64), index=True, doc="the body (source name) the token acts for")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list, doc="deliver | receipts | collect")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    replaced_by: Mapped[int | None] = mapped_column(Integer, default=None, doc="the token a rotation issued in its place")


class ApiIdempotency(Base):
    """An ``Idempotency-Key`` a body sent with a delivery: by its SHA-256, with the content hash of
    what it delivered (the same key with other content is refused)."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("body", "source", "key_hash", name="uq_api_idempotency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ApiDeliveryDay(Base):
    """Bytes a body delivered over the API on one day (UTC): the daily limit counts here."""

    __tablename__ = "api_delivery_days"
    __table_args__ = (UniqueConstraint("body", "day", name="uq_api_delivery_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


__all__ = [
    "ApiDeliveryDay",
    "ApiIdempotency",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "Base",
    "ErasureMark",
    "HeldDocument",
    "IndexChange",
    "IndexSegment",
    "IngestFile",
    "Link",
    "LinkEvent",
    "ModelVersion",
    "PendingDecision",
    "Person",
    "RecordEvent",
    "RejectedRow",
    "ReviewItem",
    "SignInFailure",
    "SourceRecord",
    "SourceState",
    "Transfer",
    "WebSession",
    "WebUser",
]
