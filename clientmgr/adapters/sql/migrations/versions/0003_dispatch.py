"""Outbox dispatcher: who holds a claimed message, and pacing per WhatsApp session.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

``outbox.lease_owner`` names the dispatcher claim holding a ``sending`` row, so a worker
whose lease ran out cannot settle a message another worker took over. ``wa_pacing`` keeps
each WhatsApp session's next allowed send, its count for the local day and when the number
was first seen (the warm-up ramp), shared by every dispatcher replica.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_owner", sa.Text(), nullable=True))

    op.create_table(
        "wa_pacing",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("next_send_at", Time, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_today", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_seen_at", Time, nullable=False),
        sa.Column("pause_reason", sa.String(length=32), nullable=True),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint("sent_today >= 0", name=op.f("ck_wa_pacing_sent_today_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_wa_pacing_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_wa_pacing")),
    )
    op.create_index(
        op.f("ix_wa_pacing_account_id_next_send_at"), "wa_pacing", ["account_id", "next_send_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_wa_pacing_account_id_next_send_at"), table_name="wa_pacing")
    op.drop_table("wa_pacing")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_owner")
