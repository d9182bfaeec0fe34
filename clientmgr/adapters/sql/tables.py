"""The schema as SQLAlchemy Core tables (the attrs entities are never mapped; see ``mapping``).

Server defaults exist for set-based SQL (``INSERT … SELECT``) that fills only some
columns; the repositories always write every column. This module must describe exactly
what the alembic migrations build: ``tests/contract``
compares the two. Constraint names follow ``NAMING_CONVENTION`` so later migrations (and
SQLite batch mode, which recreates tables) can refer to them by name.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects import postgresql

from clientmgr.adapters.sql.types import Money, UtcDateTime

__all__ = [
    "NAMING_CONVENTION",
    "accounts_table",
    "audit_events_table",
    "bot_state_table",
    "clients_table",
    "metadata",
    "outbox_table",
    "payments_table",
    "subscription_payments_table",
    "templates_table",
    "wa_pacing_table",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Byte-wise comparison on PostgreSQL, like SQLite and Python, whatever the server locale.
SortKey = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
JsonDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")

accounts_table = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("telegram_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("trial_ends_at", UtcDateTime, nullable=False),
    Column("paid_until", UtcDateTime, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("business_name", Text, nullable=True),
    Column("pix_key", Text, nullable=True),
    Column("pix_name", Text, nullable=True),
    Column("pix_city", Text, nullable=True),
    # Reminder policy: day offsets around the due date (JSON list of ints) and the local
    # send window; kept on the account row because it is read with the account every time.
    Column("reminder_offsets", JsonDocument, nullable=False),
    Column("send_window_start", Time, nullable=False),
    Column("send_window_end", Time, nullable=False),
    UniqueConstraint("telegram_id"),
)

clients_table = Table(
    "clients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", SortKey, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("plan", Text, nullable=False, server_default=""),
    Column("price", Money, nullable=False),
    Column("cycle", String(16), nullable=False, server_default="month"),
    Column("due_date", Date, nullable=False),
    Column("anchor_day", SmallInteger, nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    Column("paused", Boolean, nullable=False, server_default=false()),
    Column("archived", Boolean, nullable=False, server_default=false()),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("wa_jid", Text, nullable=True),
    Column("wa_lid", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "phone"),
    # Lets payments and outbox rows reference (account_id, client_id) together, so the
    # database itself refuses a row that pairs one account with another account's client.
    UniqueConstraint("account_id", "id"),
    CheckConstraint("price >= 0", name="price_not_negative"),
    CheckConstraint("anchor_day BETWEEN 1 AND 31", name="anchor_day_in_month"),
    Index(None, "account_id", "due_date"),
)

payments_table = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("client_id", Id, nullable=False),
    Column("amount", Money, nullable=False),
    Column("paid_at", UtcDateTime, nullable=False),
    Column("method", String(16), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("periods", Integer, nullable=False, server_default="1"),
    Column("idempotency_key", Text, nullable=True),
    ForeignKeyConstraint(["account_id", "client_id"], ["clients.account_id", "clients.id"]),
    UniqueConstraint("account_id", "idempotency_key"),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    CheckConstraint("periods >= 1", name="periods_positive"),
    Index(None, "account_id", "client_id", "paid_at"),
    Index(None, "account_id", "paid_at"),
)

templates_table = Table(
    "templates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "kind"),
)

outbox_table = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("client_id", Id, nullable=True),
    Column("recipient", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("dedupe_key", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("provider_message_id", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("read_at", UtcDateTime, nullable=True),
    # Which dispatcher claim holds a ``sending`` row (a random token per claim): only that
    # claim may settle it, so a worker whose lease ran out cannot undo its successor's work.
    Column("lease_owner", Text, nullable=True),
    ForeignKeyConstraint(["account_id", "client_id"], ["clients.account_id", "clients.id"]),
    UniqueConstraint("dedupe_key"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "account_id", "client_id", "created_at"),
    Index(None, "provider_message_id"),
)

subscription_payments_table = Table(
    "subscription_payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("mp_payment_id", String(64), nullable=False),
    Column("amount", Money, nullable=False),
    Column("status", String(16), nullable=False),
    Column("qr_code", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("applied", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("mp_payment_id"),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    Index(None, "account_id", "created_at"),
    Index(None, "status"),
)

# No foreign key on account_id: the audit trail also records events about accounts that
# failed to register, and it must never stop a write because of what it describes.
audit_events_table = Table(
    "audit_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, nullable=True),
    Column("action", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("entity_id", Text, nullable=True),
    Column("actor", Text, nullable=False, server_default="system"),
    Column("correlation_id", Text, nullable=True),
    Column("data", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "account_id", "created_at"),
)

# The Telegram bot's conversation state (``ports.bot_state``): JSON as TEXT, not JSONB, so
# both databases give back byte for byte what was stored (JSONB reorders keys and refuses
# "\u0000"), and nothing here is ever queried by what the JSON holds.
bot_state_table = Table(
    "bot_state",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The outbox dispatcher's pacing per WhatsApp session (``ports.pacing.SessionPacing``):
# in the database so every dispatcher replica keeps the same interval and daily count.
# ``account_id`` lets the claim query skip sessions that may not send yet in one join.
wa_pacing_table = Table(
    "wa_pacing",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("next_send_at", UtcDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("sent_today", Integer, nullable=False, server_default="0"),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("pause_reason", String(32), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("phone", String(32), nullable=True),
    CheckConstraint("sent_today >= 0", name="sent_today_not_negative"),
    Index(None, "account_id", "next_send_at"),
)
