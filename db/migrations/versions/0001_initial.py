"""Initial schema: branches, queues, counters, tickets, audit trail, messages, counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "branch",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ux_branch_name", "branch", [sa.text("lower(name)")], unique=True)

    op.create_table(
        "branch_queue",
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("queue", sa.String(32), primary_key=True),
        sa.Column("prefix", sa.String(4), nullable=False),
        sa.Column("avg_service_seconds", sa.Float, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("notify_threshold", sa.Integer, nullable=False),
        sa.Column("target_wait_minutes", sa.Integer, nullable=False),
        sa.Column("no_show_seconds", sa.Integer, nullable=False),
    )

    op.create_table(
        "ticket_counter",
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("queue", sa.String(32), primary_key=True),
        sa.Column("business_day", sa.Date, primary_key=True),
        sa.Column("last_sequence", sa.Integer, nullable=False),
    )

    op.create_table(
        "ticket",
        sa.Column("reference", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id"), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("business_day", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("national_id_hash", sa.String(64), nullable=False),
        sa.Column("national_id_masked", sa.String(24), nullable=False),
        sa.Column("phone_masked", sa.String(24)),
        sa.Column("telegram_chat_id", sa.BigInteger),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("workflow_id", sa.String(80), nullable=False),
        sa.Column("recalls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("arrived_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.UniqueConstraint("branch_id", "queue", "business_day", "sequence",
                            name="ux_ticket_number_per_day"),
    )
    op.create_index(
        "ux_ticket_one_active_per_person",
        "ticket",
        ["branch_id", "national_id_hash"],
        unique=True,
        postgresql_where=sa.text("status IN ('WAITING','NOTIFIED','CALLED','IN_SERVICE')"),
    )
    op.create_index("ix_ticket_queue_order", "ticket",
                    ["branch_id", "queue", "status", "arrived_at"])
    op.create_index("ix_ticket_number", "ticket", ["branch_id", "number", "business_day"])

    op.create_table(
        "ticket_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("ticket_reference", pg.UUID(as_uuid=True),
                  sa.ForeignKey("ticket.reference", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_ticket_event_ticket", "ticket_event", ["ticket_reference", "at", "id"])

    op.create_table(
        "mensaje",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("ticket_reference", pg.UUID(as_uuid=True),
                  sa.ForeignKey("ticket.reference", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("parse_mode", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("scheduled_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("telegram_message_id", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("ticket_reference", "type", name="ux_mensaje_ticket_type"),
    )
    op.create_index("ix_mensaje_state", "mensaje", ["state", "created_at"])

    op.create_table(
        "metric_counter",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("label", sa.String(80), primary_key=True),
        sa.Column("value", sa.Float, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in ("metric_counter", "mensaje", "ticket_event", "ticket", "ticket_counter",
                  "branch_queue", "branch"):
        op.drop_table(table)
