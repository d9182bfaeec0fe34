"""In-memory adapters: real implementations of the ports for unit tests and the offline playground.

``InMemoryStore().unit_of_work`` is a ``UnitOfWorkFactory``; the contract tests in
``tests/contract`` hold these to the same promises as the SQL adapter.
"""

from __future__ import annotations

from clientmgr.adapters.memory.bot_state import InMemoryBotStateStore
from clientmgr.adapters.memory.payments import InMemoryPaymentGateway
from clientmgr.adapters.memory.repositories import (
    InMemoryAccountRepository,
    InMemoryAuditRepository,
    InMemoryClientRepository,
    InMemoryOutboxRepository,
    InMemoryPaymentRepository,
    InMemorySubscriptionRepository,
    InMemoryTemplateRepository,
)
from clientmgr.adapters.memory.store import InMemoryStore
from clientmgr.adapters.memory.unit_of_work import InMemoryUnitOfWork
from clientmgr.adapters.memory.whatsapp import (
    InMemoryWhatsAppGateway,
    SentWhatsAppMessage,
    ShownPresence,
)

__all__ = [
    "InMemoryAccountRepository",
    "InMemoryAuditRepository",
    "InMemoryBotStateStore",
    "InMemoryClientRepository",
    "InMemoryOutboxRepository",
    "InMemoryPaymentGateway",
    "InMemoryPaymentRepository",
    "InMemoryStore",
    "InMemorySubscriptionRepository",
    "InMemoryTemplateRepository",
    "InMemoryUnitOfWork",
    "InMemoryWhatsAppGateway",
    "SentWhatsAppMessage",
    "ShownPresence",
]
