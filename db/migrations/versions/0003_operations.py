"""Operations: run reports and the application's maintenance switch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ops_run",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("report", pg.JSONB, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
    )
    op.create_index("ix_ops_run_kind_finished", "ops_run", ["kind", "finished_at"])
    # One row: while `maintenance` is true the API refuses writes with 503.
    op.create_table(
        "app_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("maintenance", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("maintenance_reason", sa.Text),
        sa.Column("changed_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name="ck_app_state_single_row"),
    )
    op.execute("INSERT INTO app_state (id, maintenance) VALUES (1, false)")


def downgrade() -> None:
    op.drop_table("app_state")
    op.drop_index("ix_ops_run_kind_finished", "ops_run")
    op.drop_table("ops_run")
