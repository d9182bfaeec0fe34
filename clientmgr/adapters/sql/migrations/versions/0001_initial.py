"""Initial schema: accounts, clients, payments, templates, outbox, subscription payments, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written for both SQLite and PostgreSQL: ids are BIGINT (INTEGER on SQLite, the only type
it auto-numbers), times TIMESTAMP WITH TIME ZONE (naive UTC text on SQLite), money
NUMERIC(12, 2), JSON as JSONB on PostgreSQL. Constraint names follow the naming
convention in ``clientmgr.adapters.sql.tables``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)
Money = sa.Numeric(12, 2)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SortKey = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("trial_ends_at", Time, nullable=False),
        sa.Column("paid_until", Time, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("business_name", sa.Text(), nullable=True),
        sa.Column("pix_key", sa.Text(), nullable=True),
        sa.Column("pix_name", sa.Text(), nullable=True),
        sa.Column("pix_city", sa.Text(), nullable=True),
        sa.Column("reminder_offsets", Json, nullable=False),
        sa.Column("send_window_start", sa.Time(), nullable=False),
        sa.Column("send_window_end", sa.Time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_accounts_telegram_id")),
    )

    op.create_table(
        "clients",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", SortKey, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.Text(), server_default="", nullable=False),
        sa.Column("price", Money, nullable=False),
        sa.Column("cycle", sa.String(length=16), server_default="month", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("anchor_day", sa.SmallInteger(), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("wa_jid", sa.Text(), nullable=True),
        sa.Column("wa_lid", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_clients_price_not_negative")),
        sa.CheckConstraint(
            "anchor_day BETWEEN 1 AND 31", name=op.f("ck_clients_anchor_day_in_month")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_clients_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("account_id", "phone", name=op.f("uq_clients_account_id_phone")),
        sa.UniqueConstraint("account_id", "id", name=op.f("uq_clients_account_id_id")),
    )
    op.create_index(op.f("ix_clients_account_id_due_date"), "clients", ["account_id", "due_date"])

    op.create_table(
        "payments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("client_id", Id, nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("paid_at", Time, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("periods", sa.Integer(), server_default="1", nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_amount_not_negative")),
        sa.CheckConstraint("periods >= 1", name=op.f("ck_payments_periods_positive")),
        sa.ForeignKeyConstraint(
            ["account_id", "client_id"],
            ["clients.account_id", "clients.id"],
            name=op.f("fk_payments_account_id_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payments_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name=op.f("uq_payments_account_id_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_payments_account_id_client_id_paid_at"),
        "payments",
        ["account_id", "client_id", "paid_at"],
    )
    op.create_index(op.f("ix_payments_account_id_paid_at"), "payments", ["account_id", "paid_at"])

    op.create_table(
        "templates",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_templates_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("account_id", "kind", name=op.f("uq_templates_account_id_kind")),
    )

    op.create_table(
        "outbox",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("client_id", Id, nullable=True),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("lease_until", Time, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("sent_at", Time, nullable=True),
        sa.Column("delivered_at", Time, nullable=True),
        sa.Column("read_at", Time, nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id", "client_id"],
            ["clients.account_id", "clients.id"],
            name=op.f("fk_outbox_account_id_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_outbox_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(
        op.f("ix_outbox_status_next_attempt_at"), "outbox", ["status", "next_attempt_at"]
    )
    op.create_index(
        op.f("ix_outbox_account_id_client_id_created_at"),
        "outbox",
        ["account_id", "client_id", "created_at"],
    )
    op.create_index(op.f("ix_outbox_provider_message_id"), "outbox", ["provider_message_id"])

    op.create_table(
        "subscription_payments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("mp_payment_id", sa.String(length=64), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("qr_code", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("approved_at", Time, nullable=True),
        sa.Column("applied", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "amount >= 0", name=op.f("ck_subscription_payments_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_subscription_payments_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_payments")),
        sa.UniqueConstraint("mp_payment_id", name=op.f("uq_subscription_payments_mp_payment_id")),
    )
    op.create_index(
        op.f("ix_subscription_payments_account_id_created_at"),
        "subscription_payments",
        ["account_id", "created_at"],
    )
    op.create_index(op.f("ix_subscription_payments_status"), "subscription_payments", ["status"])

    op.create_table(
        "audit_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), server_default="system", nullable=False),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_account_id_created_at"),
        "audit_events",
        ["account_id", "created_at"],
    )


def downgrade() -> None:
    for table in (
        "audit_events",
        "subscription_payments",
        "outbox",
        "templates",
        "payments",
        "clients",
        "accounts",
    ):
        op.drop_table(table)
