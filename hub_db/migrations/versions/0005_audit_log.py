"""audit log: one append-only log in five hash-chained channels, replacing the audit table

The old ``audit`` table (transfers, notices, review decisions, erasures) becomes the first entries
of the new ``audit_log``: each row, in its old order, is sealed into the chain of its channel
(transfer or change) with its old time and the actor ``migrated:before-audit-log``; the record id
a transfer went to becomes a keyed token (``record:<source>:<token>``) of the id its body knows
(an encrypted job-centre id opened first, as ``pipeline.database.auditor_for`` names records).
Sealing needs the audit key, which the database does not hold: ``kim-hub init`` passes it and the
naming (``hub_db.database.upgrade``), and an upgrade without the key stops before anything
changes when there are rows to move.

Triggers make both tables append-only in the database: no UPDATE, no DELETE except of log entries
a retention checkpoint covers (``hub_db.audit_log.purge`` writes the checkpoint first), no
TRUNCATE. A later migration that rebuilds either table on SQLite (Alembic's batch mode copies it)
must create the triggers again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from kim_hub.hub_db.audit_chain import ChainKey, EntryContent, plain_json, utc

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MIGRATED_ACTOR = "migrated:before-audit-log"

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.seq > (SELECT coalesce(max(upto_seq), 0) FROM audit_checkpoints WHERE channel = OLD.channel)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: only a retention purge removes entries'); END""",
    """CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoints_no_update",
    "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete",
)
POSTGRES_TRIGGERS = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log' THEN
            IF OLD.seq <= (SELECT coalesce(max(upto_seq), 0) FROM audit_checkpoints WHERE channel = OLD.channel) THEN
                RETURN OLD;
            END IF;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only: only a retention purge removes entries';
    END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints",
    "DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)

_old_audit = sa.table(
    "audit",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("detail", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("objects", sa.JSON()),
    sa.column("purpose", sa.String()),
    sa.column("case_ref", sa.String()),
    sa.column("detail", sa.JSON()),
    sa.column("mac", sa.String()),
)


def upgrade() -> None:
    bind = op.get_bind()
    old_rows = list(bind.execute(sa.select(_old_audit).order_by(_old_audit.c.id)).all())
    alembic_config = op.get_context().config
    audit_key: bytes | None = alembic_config.attributes.get("audit_key") if alembic_config is not None else None
    if old_rows and audit_key is None:
        raise RuntimeError("the audit entries can only be moved into the sealed log with the audit key: run 'kim-hub init'")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=120), nullable=True),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "seq", name="uq_audit_channel_seq"),
    )
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"], unique=False)
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("upto_seq", sa.Integer(), nullable=False),
        sa.Column("chain_mac", sa.String(length=64), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_checkpoints_channel"), "audit_checkpoints", ["channel"], unique=False)
    if old_rows and audit_key is not None:
        named = alembic_config.attributes.get("audit_record_name") if alembic_config is not None else None
        _seal_old_entries(bind, ChainKey(audit_key), old_rows, named or _as_stored)
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_kind"))
    op.drop_table("audit")
    for statement in POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def _as_stored(_source: str, record_id: str) -> str:
    return record_id


def _seal_old_entries(bind: Any, key: ChainKey, rows: list[Any], named: Callable[[str, str], str]) -> None:
    """Each old row, in its old order, appended to the chain of its channel."""
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        channel, action, objects, detail = _translated(row.kind, dict(row.detail or {}), key, named)
        seq, previous = heads.get(channel, (0, key.genesis(channel)))
        content = EntryContent(
            channel, seq + 1, utc(row.created_at), MIGRATED_ACTOR, action, tuple(objects), None, None, plain_json(detail)
        )
        mac = key.seal(previous, content)
        bind.execute(
            sa.insert(_log).values(
                channel=channel,
                seq=content.seq,
                created_at=content.at,
                actor=MIGRATED_ACTOR,
                action=action,
                objects=list(objects),
                purpose=None,
                case_ref=None,
                detail=dict(content.detail),
                mac=mac,
            )
        )
        heads[channel] = (content.seq, mac)


def _translated(
    kind: str, detail: dict[str, Any], key: ChainKey, named: Callable[[str, str], str]
) -> tuple[str, str, list[str], dict[str, Any]]:
    """An old entry's channel, action, objects and detail (the record id out of the detail)."""
    if kind == "transfer" or kind.endswith("_notice"):
        recipient, record_id = detail.pop("recipient", None), detail.pop("recipient_record", None)
        objects = []
        if recipient and record_id:
            erased = record_id == "erased"  # erasure had redacted it: nothing to make a token of
            source = str(recipient)
            objects.append(f"record:{source}:erased" if erased else key.record(source, named(source, str(record_id))))
        action = "transfer.summary" if kind == "transfer" else f"transfer.{kind}"
        return "transfer", action, objects, {"recipient": recipient, **detail}
    if kind == "review_decision":
        item = detail.pop("item", None)
        return "change", "review.decide", [f"review:{item}"] if item is not None else [], detail
    if kind == "erasure":
        return "change", "erase.records", [], detail
    if kind == "purge":
        return "change", "copies.purge", [], detail
    return "change", f"legacy.{kind}", [], detail


def downgrade() -> None:
    bind = op.get_bind()
    for statement in POSTGRES_DROP if bind.dialect.name == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_kind"), ["kind"], unique=False)
    kinds = {
        "transfer.summary": "transfer",
        "review.decide": "review_decision",
        "erase.records": "erasure",
        "copies.purge": "purge",
    }
    query = sa.select(_log).where(_log.c.channel.in_(("transfer", "change"))).order_by(_log.c.id)
    for row in bind.execute(query).all():
        kind = kinds.get(row.action, row.action.removeprefix("transfer.").removeprefix("legacy."))
        detail = dict(row.detail or {})
        if row.channel == "transfer":
            detail["recipient_record"] = "erased"  # the old table held ids in clear; the log holds only tokens
        bind.execute(sa.insert(_old_audit).values(kind=kind, detail=detail, created_at=row.created_at))
    op.drop_index(op.f("ix_audit_checkpoints_channel"), table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_created_at"), table_name="audit_log")
    op.drop_table("audit_log")
