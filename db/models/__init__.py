"""SQLModel table models: the schema of every table the migrations create.

`metadata` is Alembic's `target_metadata`; `tests/db/test_models_match_migrations.py`
fails when a migration and these models disagree. Queries may stay hand-written SQL
(see the other `db/` modules) but run against these tables.
"""

from sqlmodel import SQLModel

from db.models.branches import (
    Branch,
    BranchHoliday,
    BranchHours,
    BranchQueue,
    Kiosk,
    TicketCounter,
)
from db.models.bridge import BotUpdate, CancelConfirmation
from db.models.chats import TelegramChat
from db.models.messages import Mensaje, MetricCounter
from db.models.ops import AppState, OpsRun
from db.models.security import AppUserBranch, AuthEvent, LoginThrottle
from db.models.staff import Advisor, AppUser
from db.models.tickets import Ticket, TicketEvent

metadata = SQLModel.metadata

__all__ = [
    "Advisor",
    "AppState",
    "AppUser",
    "AppUserBranch",
    "AuthEvent",
    "BotUpdate",
    "Branch",
    "BranchHoliday",
    "BranchHours",
    "BranchQueue",
    "CancelConfirmation",
    "Kiosk",
    "LoginThrottle",
    "Mensaje",
    "MetricCounter",
    "OpsRun",
    "TelegramChat",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "metadata",
]
