"""SQLAlchemy implementations of the repository ports, one module per repository."""

from __future__ import annotations

from clientmgr.adapters.sql.repositories.accounts import SqlAlchemyAccountRepository
from clientmgr.adapters.sql.repositories.audit import SqlAlchemyAuditRepository
from clientmgr.adapters.sql.repositories.clients import SqlAlchemyClientRepository
from clientmgr.adapters.sql.repositories.outbox import SqlAlchemyOutboxRepository
from clientmgr.adapters.sql.repositories.payments import SqlAlchemyPaymentRepository
from clientmgr.adapters.sql.repositories.subscriptions import SqlAlchemySubscriptionRepository
from clientmgr.adapters.sql.repositories.templates import SqlAlchemyTemplateRepository

__all__ = [
    "SqlAlchemyAccountRepository",
    "SqlAlchemyAuditRepository",
    "SqlAlchemyClientRepository",
    "SqlAlchemyOutboxRepository",
    "SqlAlchemyPaymentRepository",
    "SqlAlchemySubscriptionRepository",
    "SqlAlchemyTemplateRepository",
]
