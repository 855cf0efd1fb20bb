"""Login throttling, the staff audit trail and the branches a supervisor watches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Failed logins per attempted username, whether or not the user exists (so a lockout
    # does not reveal which usernames exist). `key` is an HMAC of the lower-cased
    # username: the names people type (sometimes a password) are not stored.
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
    )
    op.create_index("ix_login_throttle_last_failure", "login_throttle", ["last_failure_at"])

    # Security events of staff accounts (failed logins, lockouts, throttled addresses),
    # with the attempted username and the client address masked.
    op.create_table(
        "auth_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL")),
        sa.Column("username_masked", sa.String(16), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("details", pg.JSONB),
    )
    op.create_index("ix_auth_event_at", "auth_event", ["at"])
    op.create_index("ix_auth_event_user", "auth_event", ["user_id", "at"])

    # The branches a supervisor watches; a supervisor with none watches every branch.
    op.create_table(
        "app_user_branch",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_app_user_branch_branch", "app_user_branch", ["branch_id"])


def downgrade() -> None:
    op.drop_index("ix_app_user_branch_branch", "app_user_branch")
    op.drop_table("app_user_branch")
    op.drop_index("ix_auth_event_user", "auth_event")
    op.drop_index("ix_auth_event_at", "auth_event")
    op.drop_table("auth_event")
    op.drop_index("ix_login_throttle_last_failure", "login_throttle")
    op.drop_table("login_throttle")
