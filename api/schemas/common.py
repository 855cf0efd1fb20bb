"""What several areas' bodies share: camelCase on the wire and the ``HH:MM`` time."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

#: A local wall-clock time as supervisors write it (``09:00``).
HourMinute = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


class CamelModel(BaseModel):
    """camelCase on the wire, built from the service's dataclasses."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)
