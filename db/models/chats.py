"""A Telegram chat's own settings, kept across the tickets it follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import TS, created_now


class TelegramChat(SQLModel, table=True):
    """The language a chat reads (its latest /start), used for every ticket it follows."""

    __tablename__ = "telegram_chat"
    __table_args__ = (CheckConstraint("language IN ('es','en')", name="ck_telegram_chat_language"),)

    chat_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    language: str = Field(max_length=8)
    updated_at: datetime = Field(sa_type=TS, sa_column_kwargs=created_now())
