"""Early checks a screen makes before asking the seller to type anything.

Why: a flow that will end in ``add_client`` should refuse at its first step, not after the
seller typed six answers: an expired account learns it at once, and a phone that another
client already has is pointed out right after it is typed. ``add_client`` repeats both
checks when saving, so these are a courtesy, never the only guard.
"""

from __future__ import annotations

from clientmgr.core.clients import Client
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import require_writable

__all__ = ["ensure_writable", "phone_owner"]


async def ensure_writable(uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int) -> None:
    """Raises AccountExpiredError when the seller may only read, export and pay."""
    async with uow_factory() as uow:
        await require_writable(uow, clock, account_id)


async def phone_owner(uow_factory: UnitOfWorkFactory, account_id: int, phone: str) -> Client | None:
    """The seller's client that already has ``phone`` (E.164), if any (archived ones too)."""
    async with uow_factory() as uow:
        return await uow.clients.get_by_phone(account_id, phone)
