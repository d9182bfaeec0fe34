"""Import and export a seller's client book as a CSV spreadsheet.

Import is an upsert by phone: sending the same sheet twice, or a corrected one, updates the
clients it already created instead of duplicating them. Choices:

- The whole file is parsed before anything is written, and every valid row is written in
  one ``upsert_many`` call and one commit; broken rows are reported (line + reason) and skipped,
  never abort the rest.
- An update changes only what the sheet carries: name, phone, price, due date, and plan /
  cycle / notes when the sheet has those columns. What the seller set in the bot and a sheet
  cannot express is kept: paused, archived, opted out (a client who asked for no reminders
  must not get them back because an old sheet was re-sent), the WhatsApp ids, created_at.
  The anchor day moves with the due date only when the due date changed, so an exported
  28/02 of a client who pays on the 31st does not become "pays on the 28th" on re-import.
- Export lists the clients the seller sees in the bot (archived hidden) unless
  ``include_archived``; the CSV has no "archived" column, so mixing them in would bring them
  back as active on re-import. Expired accounts may export (they may always take their data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import evolve, field, frozen

from clientmgr.core.clients import Client
from clientmgr.core.csvio import ClientDraft, RowError, export_csv, parse_csv
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory
from clientmgr.services.accounts import audit, require_writable

__all__ = ["ImportReport", "export_clients", "import_clients"]


@frozen
class ImportReport:
    """What an import did. ``total`` counts non-blank data rows: inserted + updated + errors.

    ``client_ids`` are the clients written (new and updated), in the sheet's order, for the
    WhatsApp number check that follows (``services.number_check``); not part of equality.
    """

    inserted: int
    updated: int
    errors: tuple[RowError, ...]
    total: int
    ignored_columns: tuple[str, ...] = ()
    client_ids: tuple[int, ...] = field(default=(), eq=False)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated


async def import_clients(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, data: bytes
) -> ImportReport:
    """Upsert every valid row of the CSV ``data`` into the account; report the rest by line.

    Raises AccountExpiredError when the account may not add clients, AccountNotFoundError,
    and InvalidCsvError when the file as a whole is unusable (nothing is written then).
    """
    async with uow_factory() as uow:
        account = await require_writable(uow, clock, account_id)
    # Parsing is CPU work: done outside any transaction so no connection waits on it.
    parsed = parse_csv(data, account.local_now(clock.now()).date())
    inserted = updated = 0
    client_ids: tuple[int, ...] = ()
    if parsed.drafts:
        async with uow_factory() as uow:
            await require_writable(uow, clock, account_id)
            existing = {
                client.phone: client for client in await uow.clients.list(account_id, archived=None)
            }
            clients = _to_clients(account_id, parsed.drafts, existing, parsed.columns, clock)
            inserted, updated = await uow.clients.upsert_many(account_id, clients)
            client_ids = await _ids_of(uow, account_id, [client.phone for client in clients])
            await audit(
                uow,
                clock,
                account_id,
                "clients.imported",
                "client",
                inserted=inserted,
                updated=updated,
                errors=len(parsed.errors),
            )
            await uow.commit()
    return ImportReport(
        inserted=inserted,
        updated=updated,
        errors=parsed.errors,
        total=parsed.total,
        ignored_columns=parsed.ignored_columns,
        client_ids=client_ids,
    )


async def export_clients(
    uow_factory: UnitOfWorkFactory, account_id: int, *, include_archived: bool = False
) -> bytes:
    """The account's clients as CSV bytes that ``import_clients`` reads back unchanged."""
    async with uow_factory() as uow:
        await uow.accounts.get(account_id)  # AccountNotFoundError rather than an empty file
        clients = await uow.clients.list(account_id, archived=None if include_archived else False)
    return export_csv(clients)


async def _ids_of(uow: UnitOfWork, account_id: int, phones: Sequence[str]) -> tuple[int, ...]:
    """The ids of the clients now holding ``phones`` (each once, in the order given)."""
    by_phone = {
        client.phone: client.id for client in await uow.clients.list(account_id, archived=None)
    }
    return tuple(
        client_id
        for phone in dict.fromkeys(phones)
        if (client_id := by_phone.get(phone)) is not None
    )


def _to_clients(
    account_id: int,
    drafts: Sequence[ClientDraft],
    existing: dict[str, Client],
    columns: frozenset[str],
    clock: Clock,
) -> list[Client]:
    """New entities for new phones; for known phones the stored client with the sheet's values."""
    now = clock.now()
    optional = [fld for fld in ("plan", "cycle", "notes") if fld in columns]
    result: list[Client] = []
    for draft in drafts:
        old = existing.get(draft.phone)
        if old is None:
            result.append(
                Client(
                    account_id=account_id,
                    name=draft.name,
                    phone=draft.phone,
                    price=draft.price,
                    due_date=draft.due_date,
                    plan=draft.plan,
                    cycle=draft.cycle,
                    notes=draft.notes,
                    created_at=now,
                    updated_at=now,
                )
            )
            continue
        changes: dict[str, Any] = {
            "name": draft.name,
            "price": draft.price,
            "due_date": draft.due_date,
            "updated_at": now,
        }
        changes.update({fld: getattr(draft, fld) for fld in optional})
        if draft.due_date != old.due_date:
            changes["anchor_day"] = draft.due_date.day
        result.append(evolve(old, **changes))
    return result
