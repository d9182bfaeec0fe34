"""The scripting API: ``async with clientmgr.connect(url) as app`` gives every use case, bound.

Values may be given as a seller would type them ("(11) 98888-7777", "35,90", "10/12",
"mensal") or already typed (E.164 str, Decimal, date, BillingCycle); strings go through the
same forgiving parsers the bot uses, so a script gets the same clear errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client, ClientFilter
from clientmgr.core.cycles import BillingCycle, parse_cycle
from clientmgr.core.dates import parse_date
from clientmgr.core.money import parse_money
from clientmgr.core.payments import Payment, PaymentMethod
from clientmgr.core.phones import parse_phone
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services import accounts, clients, importing, payments

__all__ = ["Clientmgr"]


class Clientmgr:
    """One storage and one clock, with the use cases as methods."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.unit_of_work = uow_factory
        self.clock = clock

    async def _today(self, account_id: int) -> date:
        account = await accounts.get_account(self.unit_of_work, account_id)
        return account.local_now(self.clock.now()).date()

    # accounts -------------------------------------------------------------------------
    async def register_account(self, telegram_id: int, name: str) -> Account:
        """The seller's account (created on a 7-day trial if new)."""
        account, _ = await accounts.register_account(
            self.unit_of_work, self.clock, telegram_id, name
        )
        return account

    async def accounts(self) -> Sequence[Account]:
        return await accounts.list_accounts(self.unit_of_work)

    async def account(self, account_id: int) -> Account:
        return await accounts.get_account(self.unit_of_work, account_id)

    async def grant_days(self, account_id: int, days: int) -> Account:
        return await accounts.grant_days(
            self.unit_of_work, self.clock, account_id, days, actor="script"
        )

    # clients --------------------------------------------------------------------------
    async def add_client(
        self,
        account_id: int,
        *,
        name: str,
        phone: str,
        price: Decimal | str,
        due_date: date | str,
        plan: str = "",
        cycle: BillingCycle | str = "mensal",
        notes: str = "",
    ) -> Client:
        today = await self._today(account_id)
        cmd = clients.AddClient(
            name=name,
            phone=parse_phone(phone),
            price=parse_money(price) if isinstance(price, str) else price,
            due_date=parse_date(due_date, today) if isinstance(due_date, str) else due_date,
            plan=plan,
            cycle=parse_cycle(cycle) if isinstance(cycle, str) else cycle,
            notes=notes,
        )
        return await clients.add_client(self.unit_of_work, self.clock, account_id, cmd)

    async def clients(
        self, account_id: int, *, filter: str = ClientFilter.ALL, search: str | None = None
    ) -> Sequence[Client]:
        """Every client under the filter (all, due_soon, overdue, paused, archived)."""
        today = await self._today(account_id)
        page = await clients.list_clients(
            self.unit_of_work, account_id, today=today, filter=filter, search=search, per_page=10**9
        )
        return page.clients

    async def client(self, account_id: int, client_id: int) -> Client:
        return await clients.get_client(self.unit_of_work, account_id, client_id)

    async def pause_client(self, account_id: int, client_id: int, paused: bool = True) -> Client:
        return await clients.set_paused(
            self.unit_of_work, self.clock, account_id, client_id, paused
        )

    async def archive_client(self, account_id: int, client_id: int) -> Client:
        return await clients.archive_client(self.unit_of_work, self.clock, account_id, client_id)

    # payments -------------------------------------------------------------------------
    async def record_payment(
        self,
        account_id: int,
        client_id: int,
        *,
        periods: int = 1,
        amount: Decimal | str | None = None,
        method: PaymentMethod | str = PaymentMethod.PIX,
        idempotency_key: str | None = None,
    ) -> payments.PaymentRecorded:
        cmd = payments.RecordPayment(
            client_id=client_id,
            periods=periods,
            amount=parse_money(amount) if isinstance(amount, str) else amount,
            method=PaymentMethod(method),
            idempotency_key=idempotency_key,
        )
        return await payments.record_payment(self.unit_of_work, self.clock, account_id, cmd)

    async def payments(self, account_id: int, client_id: int) -> Sequence[Payment]:
        return await payments.list_payments(self.unit_of_work, account_id, client_id)

    # CSV ------------------------------------------------------------------------------
    async def import_csv(self, account_id: int, data: bytes) -> importing.ImportReport:
        return await importing.import_clients(self.unit_of_work, self.clock, account_id, data)

    async def export_csv(self, account_id: int) -> bytes:
        return await importing.export_clients(self.unit_of_work, account_id)
