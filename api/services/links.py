"""The ticket's Telegram deep link and its QR code."""

from __future__ import annotations

import io
import uuid

import segno

from domain.deeplink import deep_link, encode_start_payload
from settings import Settings


def telegram_link(settings: Settings, reference: uuid.UUID) -> str:
    key = settings.telegram_link_secret.get_secret_value().encode()
    return deep_link(settings.telegram_bot_username, encode_start_payload(reference, key))


def qr_png(link: str) -> bytes:
    """A PNG QR code a branch screen or a printed ticket can show."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()
