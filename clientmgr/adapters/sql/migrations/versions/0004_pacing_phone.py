"""Pacing remembers which phone number a WhatsApp session is linked to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

The warm-up ramp protects a *number* that WhatsApp has not seen sending yet. A seller who
links another phone to the same session starts a new number, so ``wa_pacing.phone`` keeps
the linked number (E.164) and the ramp restarts when it changes. Null: not known yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wa_pacing") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wa_pacing") as batch:
        batch.drop_column("phone")
