"""Tickets persisted by the API before their workflow starts.

- `ticket.fingerprint`: the creation request's fingerprint, so a retry with the same
  Idempotency-Key and a different request is refused without asking the workflow.
- `ticket.workflow_started`: false from the API's insert until it has seen the ticket's
  workflow started; the adoption sweep starts the workflows of rows left false (an API
  that died, or Temporal away, between the commit and the start). Existing rows were
  created inside their workflow: true.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("fingerprint", sa.String(64), nullable=True))
    op.add_column(
        "ticket",
        sa.Column("workflow_started", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index(
        "ix_ticket_unadopted",
        "ticket",
        ["created_at"],
        postgresql_where=sa.text("NOT workflow_started"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_unadopted", table_name="ticket")
    op.drop_column("ticket", "workflow_started")
    op.drop_column("ticket", "fingerprint")
