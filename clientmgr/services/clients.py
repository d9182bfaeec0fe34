"""Client use cases: add, edit, pause, resume, archive, find and list a seller's clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from attrs import define, evolve, field, frozen

from clientmgr.core.clients import Client, ClientFilter
from clientmgr.core.cycles import BillingCycle
from clientmgr.core.i18n import _
from clientmgr.errors import DuplicatePhoneError, InvalidInputError
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit, require_writable

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_NOTES_LENGTH",
    "AddClient",
    "ClientPage",
    "add_client",
    "archive_client",
    "edit_client",
    "get_client",
    "list_clients",
    "set_paused",
]

MAX_NAME_LENGTH = 120
MAX_NOTES_LENGTH = 2000
_EDITABLE = {"name", "phone", "plan", "price", "due_date", "cycle", "notes"}


def _check_text(name: str, notes: str) -> None:
    if not name.strip():
        raise InvalidInputError(_("O nome não pode ficar vazio."), "Maria Silva")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            _("O nome passou de {max} letras.").format(max=MAX_NAME_LENGTH), "Maria Silva"
        )
    if len(notes) > MAX_NOTES_LENGTH:
        raise InvalidInputError(
            _("A observação passou de {max} letras.").format(max=MAX_NOTES_LENGTH),
            _("Paga sempre no dinheiro"),
        )


@frozen
class AddClient:
    """A new client, already parsed (phone in E.164, price as Decimal)."""

    name: str
    phone: str
    price: Decimal
    due_date: date
    plan: str = ""
    cycle: BillingCycle = field(factory=BillingCycle)
    notes: str = ""


async def add_client(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, cmd: AddClient
) -> Client:
    """Raises DuplicatePhoneError (with the existing client's id) or AccountExpiredError."""
    _check_text(cmd.name, cmd.notes)
    async with uow_factory() as uow:
        await require_writable(uow, clock, account_id)
        existing = await uow.clients.get_by_phone(account_id, cmd.phone)
        if existing is not None:
            raise DuplicatePhoneError(cmd.phone, existing.id)
        now = clock.now()
        client = await uow.clients.add(
            Client(
                account_id=account_id,
                name=cmd.name.strip(),
                phone=cmd.phone,
                plan=cmd.plan.strip(),
                price=cmd.price,
                due_date=cmd.due_date,
                cycle=cmd.cycle,
                notes=cmd.notes.strip(),
                created_at=now,
                updated_at=now,
            )
        )
        await audit(uow, clock, account_id, "client.added", "client", client.id)
        await uow.commit()
        return client


async def get_client(uow_factory: UnitOfWorkFactory, account_id: int, client_id: int) -> Client:
    """Raises ClientNotFoundError, also for another account's client."""
    async with uow_factory() as uow:
        return await uow.clients.get(account_id, client_id)


async def edit_client(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, client_id: int, **changes: object
) -> Client:
    """Change any of name, phone, plan, price, due_date, cycle, notes.

    A new due date also becomes the new anchor day: the seller moved the payment day.
    A new phone forgets the WhatsApp JID/LID found for the old one (``number_check``
    finds the new number's).
    """
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"cannot edit {sorted(unknown)}")
    async with uow_factory() as uow:
        await require_writable(uow, clock, account_id)
        client = await uow.clients.get(account_id, client_id)
        if "due_date" in changes:
            changes["anchor_day"] = changes["due_date"].day  # type: ignore[attr-defined]
        updated = evolve(client, updated_at=clock.now(), **changes)
        _check_text(updated.name, updated.notes)
        if updated.phone != client.phone:
            other = await uow.clients.get_by_phone(account_id, updated.phone)
            if other is not None:
                raise DuplicatePhoneError(updated.phone, other.id)
            # The WhatsApp ids were the old number's: reminders must not follow them.
            updated = evolve(updated, wa_jid=None, wa_lid=None)
        await uow.clients.update(updated)
        await audit(
            uow,
            clock,
            account_id,
            "client.edited",
            "client",
            client_id,
            fields=",".join(sorted(changes)),
        )
        await uow.commit()
        return updated


async def set_paused(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, client_id: int, paused: bool
) -> Client:
    """Pause (no reminders, queued ones cancelled) or resume a client."""
    async with uow_factory() as uow:
        client = await uow.clients.get(account_id, client_id)
        updated = evolve(client, paused=paused, updated_at=clock.now())
        await uow.clients.update(updated)
        if paused:
            await uow.outbox.cancel_queued_for_client(account_id, client_id)
        await audit(
            uow,
            clock,
            account_id,
            "client.paused" if paused else "client.resumed",
            "client",
            client_id,
        )
        await uow.commit()
        return updated


async def archive_client(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, client_id: int
) -> Client:
    """Hide the client from lists and reminders; history is kept."""
    async with uow_factory() as uow:
        client = await uow.clients.get(account_id, client_id)
        updated = evolve(client, archived=True, updated_at=clock.now())
        await uow.clients.update(updated)
        await uow.outbox.cancel_queued_for_client(account_id, client_id)
        await audit(uow, clock, account_id, "client.archived", "client", client_id)
        await uow.commit()
        return updated


@define
class ClientPage:
    clients: Sequence[Client]
    page: int
    pages: int
    total: int


async def list_clients(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    *,
    today: date,
    filter: str = ClientFilter.ALL,
    search: str | None = None,
    page: int = 0,
    per_page: int = 10,
) -> ClientPage:
    """One page of the seller's clients under a named filter (see ClientFilter)."""
    criteria: dict[str, object] = {}
    if filter == ClientFilter.DUE_SOON:
        criteria = {"due_from": today, "due_to": today + timedelta(days=7), "paused": False}
    elif filter == ClientFilter.OVERDUE:
        criteria = {"due_to": today - timedelta(days=1), "paused": False}
    elif filter == ClientFilter.PAUSED:
        criteria = {"paused": True}
    elif filter == ClientFilter.ARCHIVED:
        criteria = {"archived": True}
    elif filter != ClientFilter.ALL:
        raise ValueError(f"unknown filter {filter!r}")
    async with uow_factory() as uow:
        matching = await uow.clients.list(account_id, search=search, **criteria)  # type: ignore[arg-type]
    total = len(matching)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    return ClientPage(matching[start : start + per_page], page, pages, total)
