"""Kiosk devices (tokens bound to a branch, stored hashed) and the runbook's branches.

Branches are no longer created by taking a ticket, so the branches the runbook's
functional test ("Test") and the deploy smoke test ("Smoke Test") use are seeded here,
with the default queue settings of this revision's time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
SEEDED_BRANCHES = ("Test", "Smoke Test")
TIME_ZONE = "America/Santiago"
# queue, prefix, avg_service_seconds, priority, notify_threshold, target_wait, no_show_seconds
QUEUES = (
    ("CAJA", "C", 300.0, 1, 3, 15, 300),
    ("PERSONAL_BANKER", "P", 900.0, 2, 3, 30, 300),
    ("EMPRESAS", "E", 1200.0, 3, 3, 40, 300),
    ("GERENCIA", "G", 1800.0, 4, 3, 45, 300),
)


def upgrade() -> None:
    op.create_table(
        "kiosk",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("branch.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ux_kiosk_token_hash", "kiosk", ["token_hash"], unique=True)
    op.create_index("ix_kiosk_branch", "kiosk", ["branch_id"])

    conn = op.get_bind()
    for name in SEEDED_BRANCHES:
        branch_id = conn.execute(
            sa.text(
                "INSERT INTO branch (name, time_zone) VALUES (:n, :tz)"
                " ON CONFLICT ((lower(name))) DO NOTHING RETURNING id"
            ),
            {"n": name, "tz": TIME_ZONE},
        ).scalar()
        if branch_id is None:
            continue
        conn.execute(
            sa.text(
                "INSERT INTO branch_queue (branch_id, queue, prefix, avg_service_seconds,"
                " priority, notify_threshold, target_wait_minutes, no_show_seconds)"
                " VALUES (:b, :q, :p, :s, :pr, :nt, :tw, :ns) ON CONFLICT DO NOTHING"
            ),
            [
                {"b": branch_id, "q": q, "p": p, "s": s, "pr": pr, "nt": nt, "tw": tw, "ns": ns}
                for q, p, s, pr, nt, tw, ns in QUEUES
            ],
        )


def downgrade() -> None:
    # The seeded branches stay: tickets may reference them.
    op.drop_index("ix_kiosk_branch", "kiosk")
    op.drop_index("ux_kiosk_token_hash", "kiosk")
    op.drop_table("kiosk")
