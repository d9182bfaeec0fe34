"""Is the client's number on WhatsApp? Asked when a client is saved or imported.

The seller hears about a wrong number right away, while fixing it is one tap, instead of
when the first reminder fails days later. The JID and LID WhatsApp answers are kept on the
client, so reminders reach the exact account (an old Brazilian mobile may be registered
without its 9th digit).

The check is advisory and never stands in the way of saving: it runs after the client is
stored, and a session that is not open, a sidecar that is down or a slow answer only
leave clients "not checked". Limits, so a huge import does not hammer the seller's
WhatsApp (many lookups in a burst look like a spammer's and risk the number):

- at most ``MAX_CHECKED`` numbers looked up per call; the rest are counted as not
  checked, and since known numbers are not asked again, a later call (the same sheet
  sent again) goes on with them;
- ``LOOKUP_BATCH`` phones per lookup call (the sidecar's own limit);
- a time budget for the whole call (``budget`` seconds): when it runs out, the clients
  not asked yet are not checked.

A client that already has a JID for its phone counts as checked without asking again:
the JID is cleared whenever the phone changes (``services.clients.edit_client``), so a
stored one always belongs to the current number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from attrs import evolve, frozen

from clientmgr.core.clients import Client
from clientmgr.errors import ClientNotFoundError, WhatsAppError
from clientmgr.ports.repositories import ClientRepository, UnitOfWorkFactory
from clientmgr.ports.whatsapp import WaLookup, WhatsAppGateway
from clientmgr.services.whatsapp import session_id_for

__all__ = [
    "DEFAULT_BUDGET",
    "LOOKUP_BATCH",
    "MAX_CHECKED",
    "NumberCheck",
    "verify_clients",
]

MAX_CHECKED = 500
"""Numbers looked up per call at most: ten sidecar calls."""
LOOKUP_BATCH = 50
"""Phones per ``lookup`` call: the sidecar refuses more."""
DEFAULT_BUDGET = 20.0
"""Seconds the lookups of one call may take in all (the bot waits for them)."""


@frozen
class NumberCheck:
    """What a check found, in the order the clients were asked.

    ``checked`` counts the clients whose number was confirmed either way (on WhatsApp or
    in ``not_on_whatsapp``); ``unchecked`` the ones left out (over the cap, WhatsApp not
    reachable, time ran out). ``reachable`` is False when WhatsApp could not be asked at
    all (session not open, sidecar down, too slow): the seller should connect it, not
    worry about the numbers.
    """

    checked: int = 0
    unchecked: int = 0
    not_on_whatsapp: tuple[Client, ...] = ()
    reachable: bool = True


async def verify_clients(
    uow_factory: UnitOfWorkFactory,
    gateway: WhatsAppGateway,
    account_id: int,
    client_ids: Sequence[int],
    *,
    budget: float = DEFAULT_BUDGET,
) -> NumberCheck:
    """Look the clients' phones up on the seller's WhatsApp and keep each JID/LID found.

    Never raises for WhatsApp trouble (see the module docstring); clients of another
    account or gone meanwhile are skipped. Each batch is stored as soon as it is answered,
    so what was learnt before a failure is kept.
    """
    clients = await _load(uow_factory, account_id, list(dict.fromkeys(client_ids)))
    known = sum(1 for c in clients if c.wa_jid is not None)
    pending = [c for c in clients if c.wa_jid is None]
    pending, over_cap = pending[:MAX_CHECKED], len(pending[MAX_CHECKED:])
    deadline = asyncio.get_running_loop().time() + budget
    missing: list[Client] = []
    done = 0
    for start in range(0, len(pending), LOOKUP_BATCH):
        batch = pending[start : start + LOOKUP_BATCH]
        try:
            async with asyncio.timeout_at(deadline):
                found = await gateway.lookup(session_id_for(account_id), [c.phone for c in batch])
        except (WhatsAppError, TimeoutError):
            return NumberCheck(
                checked=known + done,
                unchecked=len(pending) - done + over_cap,
                not_on_whatsapp=tuple(missing),
                reachable=False,
            )
        missing += await _store(uow_factory, account_id, batch, found)
        done += len(batch)
    return NumberCheck(checked=known + done, unchecked=over_cap, not_on_whatsapp=tuple(missing))


async def _load(
    uow_factory: UnitOfWorkFactory, account_id: int, client_ids: list[int]
) -> list[Client]:
    """The account's clients among ``client_ids``, in that order (unknown ids skipped).

    A few are read one by one; an import's many in one listing of the account.
    """
    async with uow_factory() as uow:
        if len(client_ids) <= LOOKUP_BATCH:
            loaded = [await _get(uow.clients, account_id, client_id) for client_id in client_ids]
            return [c for c in loaded if c is not None]
        by_id = {c.id: c for c in await uow.clients.list(account_id, archived=None)}
    return [by_id[client_id] for client_id in client_ids if client_id in by_id]


async def _get(repository: ClientRepository, account_id: int, client_id: int) -> Client | None:
    try:
        return await repository.get(account_id, client_id)
    except ClientNotFoundError:
        return None


async def _store(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    batch: Sequence[Client],
    found: Sequence[WaLookup],
) -> list[Client]:
    """Keep the JID/LID of the numbers on WhatsApp; return the clients that are not.

    Each client is read again first: a phone edited while WhatsApp was answering has had
    its JID cleared, and the answer for the old number must not land on it.
    """
    missing: list[Client] = []
    async with uow_factory() as uow:
        for client, answer in zip(batch, found, strict=True):
            current = await _get(uow.clients, account_id, client.id)  # type: ignore[arg-type]
            if current is None or current.phone != client.phone:
                continue
            if not answer.exists:
                missing.append(current)
            elif answer.jid is not None:
                await uow.clients.update(evolve(current, wa_jid=answer.jid, wa_lid=answer.lid))
        await uow.commit()
    return missing
