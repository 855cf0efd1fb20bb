"""Advisors, users, opening hours and the columns of the ticket lifecycle.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("branch", sa.Column("opens_at", sa.Time, nullable=False,
                                      server_default=sa.text("'09:00'")))
    op.add_column("branch", sa.Column("closes_at", sa.Time, nullable=False,
                                      server_default=sa.text("'14:00'")))
    op.add_column("branch_queue", sa.Column("service_samples", sa.Integer, nullable=False,
                                            server_default="0"))

    op.create_table(
        "advisor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("desk", sa.Integer, nullable=False),
        sa.Column("queues", pg.ARRAY(sa.String(32)), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="OFFLINE"),
        sa.Column("status_since", TS, nullable=False, server_default=sa.func.now()),
        # The one ticket this advisor holds (reserved, called or in service).
        sa.Column("current_ticket", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("idle_since", TS, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("desk > 0", name="ck_advisor_desk_positive"),
        sa.CheckConstraint("status IN ('AVAILABLE','BUSY','BREAK','OFFLINE')",
                           name="ck_advisor_status"),
    )
    op.create_index("ux_advisor_email", "advisor", [sa.text("lower(email)")], unique=True)
    op.create_index("ux_advisor_desk", "advisor", ["branch_id", "desk"], unique=True,
                    postgresql_where=sa.text("active"))
    # No ticket is ever held by two advisors.
    op.create_index("ux_advisor_current_ticket", "advisor", ["current_ticket"], unique=True,
                    postgresql_where=sa.text("current_ticket IS NOT NULL"))

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("advisor_id", sa.Integer, sa.ForeignKey("advisor.id"), nullable=True,
                  unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('advisor','supervisor','operator')", name="ck_user_role"),
    )
    op.create_index("ux_app_user_username", "app_user", [sa.text("lower(username)")],
                    unique=True)

    for column in (
        sa.Column("advisor_id", sa.Integer, sa.ForeignKey("advisor.id")),
        sa.Column("desk", sa.Integer),
        sa.Column("claimed_at", TS),
        sa.Column("called_at", TS),
        sa.Column("service_started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("created_position", sa.Integer),
        sa.Column("original_queue", sa.String(32)),
        sa.Column("transfers", sa.Integer, nullable=False, server_default="0"),
    ):
        op.add_column("ticket", column)
    op.create_index("ix_ticket_advisor", "ticket", ["advisor_id", "business_day"])
    # A transferred ticket keeps its number in its new queue: numbers are unique per branch
    # and day across queues (prefixes differ), no longer per queue.
    op.drop_constraint("ux_ticket_number_per_day", "ticket", type_="unique")
    op.create_unique_constraint(
        "ux_ticket_number_per_day", "ticket", ["branch_id", "business_day", "number"]
    )

    op.add_column("ticket_event", sa.Column("advisor_id", sa.Integer))
    op.add_column("ticket_event", sa.Column("details", pg.JSONB))


def downgrade() -> None:
    op.drop_column("ticket_event", "details")
    op.drop_column("ticket_event", "advisor_id")
    op.drop_constraint("ux_ticket_number_per_day", "ticket", type_="unique")
    op.create_unique_constraint(
        "ux_ticket_number_per_day", "ticket", ["branch_id", "queue", "business_day", "sequence"]
    )
    op.drop_index("ix_ticket_advisor", "ticket")
    for column in ("transfers", "original_queue", "created_position", "completed_at",
                   "service_started_at", "called_at", "claimed_at", "desk", "advisor_id"):
        op.drop_column("ticket", column)
    op.drop_table("app_user")
    op.drop_table("advisor")
    op.drop_column("branch_queue", "service_samples")
    op.drop_column("branch", "closes_at")
    op.drop_column("branch", "opens_at")
