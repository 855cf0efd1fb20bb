"""Find a chat's active ticket quickly (the bot's /estado and /cancelar).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ticket_active_chat",
        "ticket",
        ["telegram_chat_id"],
        postgresql_where=sa.text(
            "telegram_chat_id IS NOT NULL AND status IN ('WAITING','NOTIFIED','CALLED','IN_SERVICE')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_active_chat", "ticket")
