"""Opening hours per weekday, holidays, early tickets and "open at all hours" per branch.

Existing branches keep what they had: their single `opens_at`-`closes_at` every day of
the week. The runbook's "Test" and the smoke test's "Smoke Test" are open at all hours,
so the functional test passes during a night deploy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ALWAYS_OPEN = ("Test", "Smoke Test")


def upgrade() -> None:
    op.add_column("branch", sa.Column("open_all_hours", sa.Boolean, nullable=False,
                                      server_default=sa.false()))
    op.add_column("branch", sa.Column("early_minutes", sa.Integer, nullable=False,
                                      server_default="0"))
    op.create_check_constraint("ck_branch_early_minutes", "branch",
                               "early_minutes BETWEEN 0 AND 720")
    op.create_table(
        "branch_hours",
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("weekday", sa.SmallInteger, primary_key=True),
        sa.Column("opens", sa.Time, nullable=False),
        sa.Column("closes", sa.Time, nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_branch_hours_weekday"),
        sa.CheckConstraint("closes = '00:00' OR closes > opens", name="ck_branch_hours_order"),
    )
    op.create_table(
        "branch_holiday",
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    conn = op.get_bind()
    conn.execute(sa.text(
        "INSERT INTO branch_hours (branch_id, weekday, opens, closes)"
        " SELECT b.id, d.weekday, b.opens_at, b.closes_at FROM branch b"
        " CROSS JOIN generate_series(0, 6) AS d(weekday)"
        " WHERE b.closes_at = '00:00' OR b.closes_at > b.opens_at"
    ))
    conn.execute(
        sa.text("UPDATE branch SET open_all_hours = true WHERE name IN :names").bindparams(
            sa.bindparam("names", expanding=True)
        ),
        {"names": list(ALWAYS_OPEN)},
    )


def downgrade() -> None:
    op.drop_table("branch_holiday")
    op.drop_table("branch_hours")
    op.drop_constraint("ck_branch_early_minutes", "branch", type_="check")
    op.drop_column("branch", "early_minutes")
    op.drop_column("branch", "open_all_hours")
