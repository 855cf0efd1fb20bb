"""The language of each Telegram chat, kept across its tickets.

Until now a chat's language lived on the ticket it followed, so a chat that said
/start in English got Spanish again on its next ticket given by chat id. One row
per chat, written by /start (Telegram's `language_code`), read when a message is
rendered. No backfill: a ticket's language was the ticket's, not the chat's; each
chat gets its row at its next /start.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_chat",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("language IN ('es','en')", name="ck_telegram_chat_language"),
    )


def downgrade() -> None:
    op.drop_table("telegram_chat")
