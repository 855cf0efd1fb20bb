"""The JSON body of a notification on the broker."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class OutboundTelegram(BaseModel):
    """One message for one chat; `message_id` is the de-duplication key end to end."""

    message_id: uuid.UUID
    kind: str
    chat_id: int
    text: str
    parse_mode: str = "HTML"
    ticket_reference: uuid.UUID
    workflow_id: str
    ticket_created_at: datetime
    #: The workflow's delivery attempt that published this copy (None: before attempts).
    attempt: int | None = None
