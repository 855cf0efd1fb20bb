"""An advisor's status to take once the ticket in hand is finished ("pause after this one").

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("advisor", sa.Column("pending_status", sa.String(16), nullable=True))
    op.create_check_constraint(
        "ck_advisor_pending_status", "advisor", "pending_status IN ('BREAK','OFFLINE')"
    )


def downgrade() -> None:
    op.drop_constraint("ck_advisor_pending_status", "advisor", type_="check")
    op.drop_column("advisor", "pending_status")
