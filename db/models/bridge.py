"""What the bridge replicas share: pending /cancelar confirmations and updates taken."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now


class CancelConfirmation(SQLModel, table=True):
    """A /cancelar waiting for the chat's /confirmar until `expires_at` (one per chat)."""

    __tablename__ = "cancel_confirmation"

    chat_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    ticket_reference: uuid.UUID = Field(foreign_key="ticket.reference", ondelete="CASCADE")
    number: str = Field(max_length=16)
    language: str = Field(max_length=8)
    expires_at: datetime = Field(sa_type=TS)


class BotUpdate(SQLModel, table=True):
    """A Telegram update id some bridge has taken: a repeat of it is not handled again."""

    __tablename__ = "bot_update"
    __table_args__ = (Index("ix_bot_update_taken_at", "taken_at"),)

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    #: chat:message_id:date of the update: the same id with another fingerprint is a new
    #: update (a restarted sandbox, or Telegram after a week, reuses update ids).
    fingerprint: str = Field(max_length=80)
    taken_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
