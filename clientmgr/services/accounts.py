"""Account use cases: register a seller, change the profile, grant days, look one up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from attrs import evolve

from clientmgr.core.accounts import Account
from clientmgr.core.audit import AuditEvent
from clientmgr.core.correlation import current_correlation_id
from clientmgr.errors import AccountExpiredError, AccountNotFoundError
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "audit",
    "get_account",
    "get_account_by_telegram_id",
    "grant_days",
    "list_accounts",
    "register_account",
    "require_writable",
    "update_profile",
]


async def audit(
    uow: UnitOfWork,
    clock: Clock,
    account_id: int | None,
    action: str,
    entity: str,
    entity_id: object = None,
    actor: str = "seller",
    **data: object,
) -> None:
    """Record who did what inside the caller's unit of work (committed with the change)."""
    await uow.audit.add(
        AuditEvent(
            action=action,
            entity=entity,
            created_at=clock.now(),
            account_id=account_id,
            entity_id=None if entity_id is None else str(entity_id),
            actor=actor,
            correlation_id=current_correlation_id(),
            data={k: str(v) for k, v in data.items()},
        )
    )


async def require_writable(uow: UnitOfWork, clock: Clock, account_id: int) -> Account:
    """The account, or AccountExpiredError when it may only read, export and pay."""
    account = await uow.accounts.get(account_id)
    if not account.status(clock.now()).can_write:
        raise AccountExpiredError()
    return account


async def register_account(
    uow_factory: UnitOfWorkFactory, clock: Clock, telegram_id: int, name: str
) -> tuple[Account, bool]:
    """The seller's account, created on a 7-day trial the first time; (account, created)."""
    async with uow_factory() as uow:
        existing = await uow.accounts.get_by_telegram_id(telegram_id)
        if existing is not None:
            return existing, False
        account = await uow.accounts.add(Account.new(telegram_id, name.strip()[:120], clock.now()))
        await audit(uow, clock, account.id, "account.registered", "account", account.id)
        await uow.commit()
        return account, True


async def get_account(uow_factory: UnitOfWorkFactory, account_id: int) -> Account:
    async with uow_factory() as uow:
        return await uow.accounts.get(account_id)


async def get_account_by_telegram_id(uow_factory: UnitOfWorkFactory, telegram_id: int) -> Account:
    async with uow_factory() as uow:
        account = await uow.accounts.get_by_telegram_id(telegram_id)
    if account is None:
        raise AccountNotFoundError(f"No account for Telegram user {telegram_id}.")
    return account


async def list_accounts(uow_factory: UnitOfWorkFactory) -> Sequence[Account]:
    async with uow_factory() as uow:
        return await uow.accounts.list()


async def update_profile(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, **changes: object
) -> Account:
    """Change business name, PIX data, timezone or reminder policy (validated by the entity)."""
    allowed = {
        "name",
        "business_name",
        "pix_key",
        "pix_name",
        "pix_city",
        "timezone",
        "reminder_policy",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)}")
    async with uow_factory() as uow:
        account = evolve(await uow.accounts.get(account_id), **changes)
        await uow.accounts.update(account)
        await audit(
            uow,
            clock,
            account_id,
            "account.updated",
            "account",
            account_id,
            fields=",".join(sorted(changes)),
        )
        await uow.commit()
        return account


async def grant_days(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, days: int, actor: str = "admin"
) -> Account:
    """Extend access by ``days`` from whichever is later: now or the current end of access."""
    if not 1 <= days <= 3660:
        raise ValueError("days must be between 1 and 3660")
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        start = max(clock.now(), account.access_until)
        account = evolve(account, paid_until=start + timedelta(days=days))
        await uow.accounts.update(account)
        await audit(
            uow,
            clock,
            account_id,
            "account.days_granted",
            "account",
            account_id,
            actor=actor,
            days=days,
        )
        await uow.commit()
        return account
