"""What every handler reaches: the use cases' dependencies, via a custom CallbackContext.

Handlers stay plain ``async def handler(update, context)`` functions; ``context.services``
is the one ``BotServices`` the application was built with (PTB's contexttypesbot pattern).
"""

from __future__ import annotations

import time
from typing import Any

from attrs import define, field
from cachetools import TTLCache
from telegram.ext import Application, CallbackContext, ExtBot

from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.flood import TokenBuckets
from clientmgr.core.accounts import Account
from clientmgr.ports.clock import Clock
from clientmgr.ports.payments import PaymentGateway
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.ports.whatsapp import WhatsAppGateway
from clientmgr.services import accounts

__all__ = ["BotServices", "ClientmgrContext"]


@define
class BotServices:
    """The ports and settings the bot's handlers need."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    whatsapp: WhatsAppGateway
    payments: PaymentGateway
    signer: CallbackSigner
    admin_ids: frozenset[int] = frozenset()
    # 15 quick taps, then 2 per second; the "slow down" notice at most once per 10 s.
    flood: TokenBuckets = field(factory=lambda: TokenBuckets(15, 2, time.monotonic))
    flood_notice: TokenBuckets = field(factory=lambda: TokenBuckets(1, 0.1, time.monotonic))
    # Telegram id → account id never changes once registered, so it is safe to cache.
    _account_ids: TTLCache[int, int] = field(factory=lambda: TTLCache(50_000, ttl=3600))

    async def account_for(self, telegram_id: int) -> Account | None:
        """The seller's account, fresh from storage (its status depends on the clock)."""
        account_id = self._account_ids.get(telegram_id)
        if account_id is not None:
            return await accounts.get_account(self.uow_factory, account_id)
        async with self.uow_factory() as uow:
            account = await uow.accounts.get_by_telegram_id(telegram_id)
        if account is not None and account.id is not None:
            self._account_ids[telegram_id] = account.id
        return account


class ClientmgrContext(
    CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]
):
    """CallbackContext with ``services``."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> BotServices:
        return self.application.bot_data["services"]
