"""Several bridges at once: a lease on the message being sent, shared /cancelar
confirmations, and the Telegram updates already taken.

- `mensaje.claimed_by/claimed_attempt/claim_expires_at`: the SENDING claim one bridge
  takes (an atomic UPDATE) before it sends; released when the attempt is recorded,
  claimable again once a crashed bridge's lease has run out.
- `cancel_confirmation`: a /cancelar waiting for /confirmar (any bridge may get it).
- `bot_update`: update ids taken by a bridge, so a repeated update is handled once
  (with the message's chat, id and date: a restarted sandbox reuses update ids).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("mensaje", sa.Column("claimed_by", sa.String(80), nullable=True))
    op.add_column("mensaje", sa.Column("claimed_attempt", sa.Integer, nullable=True))
    op.add_column("mensaje", sa.Column("claim_expires_at", TS, nullable=True))
    op.create_table(
        "cancel_confirmation",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ticket_reference", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("ticket.reference", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "bot_update",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.String(80), nullable=False),
        sa.Column("taken_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_bot_update_taken_at", "bot_update", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_bot_update_taken_at", table_name="bot_update")
    op.drop_table("bot_update")
    op.drop_table("cancel_confirmation")
    op.drop_column("mensaje", "claim_expires_at")
    op.drop_column("mensaje", "claimed_attempt")
    op.drop_column("mensaje", "claimed_by")
