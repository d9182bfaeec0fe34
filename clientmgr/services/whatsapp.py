"""Linking the seller's own WhatsApp: connect by QR, see the state, unlink, check a number.

Each seller has one session in the sidecar, named ``acc-<account id>`` (``session_id_for``)
so it is found again after any restart without storing anything. Connecting needs a
writable account (an expired one could not send anyway); looking at the state and
unlinking stay allowed, since unlinking is the seller taking their phone back.
"""

from __future__ import annotations

from clientmgr.errors import (
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.ports.whatsapp import WaLookup, WaSession, WhatsAppGateway
from clientmgr.services.accounts import audit, require_writable

__all__ = ["check_number", "connect", "disconnect", "session_id_for", "status"]


def session_id_for(account_id: int) -> str:
    """The sidecar session holding this seller's number."""
    return f"acc-{account_id}"


async def connect(
    uow_factory: UnitOfWorkFactory, clock: Clock, gateway: WhatsAppGateway, account_id: int
) -> WaSession:
    """Start (or resume) the seller's session: a QR to scan, or already ``open``.

    Raises AccountExpiredError for an expired account, WhatsAppUnavailableError when the
    sidecar is down. Repeating it is harmless: a running session is returned as it is.
    """
    async with uow_factory() as uow:
        await require_writable(uow, clock, account_id)
    session = await gateway.start_session(session_id_for(account_id))
    async with uow_factory() as uow:
        await audit(
            uow,
            clock,
            account_id,
            "whatsapp.connect",
            "whatsapp_session",
            session.id,
            state=session.state.value,
        )
        await uow.commit()
    return session


async def status(gateway: WhatsAppGateway, account_id: int) -> WaSession | None:
    """The seller's session as it is now; None when it was never started (or unlinked)."""
    return await gateway.get_session(session_id_for(account_id))


async def disconnect(
    uow_factory: UnitOfWorkFactory, clock: Clock, gateway: WhatsAppGateway, account_id: int
) -> None:
    """Unlink the seller's phone and forget the session; safe to repeat."""
    async with uow_factory() as uow:
        await uow.accounts.get(account_id)  # AccountNotFoundError before touching WhatsApp
    session_id = session_id_for(account_id)
    await gateway.logout(session_id)
    async with uow_factory() as uow:
        await audit(uow, clock, account_id, "whatsapp.disconnect", "whatsapp_session", session_id)
        await uow.commit()


async def check_number(gateway: WhatsAppGateway, session_id: str, phone: str) -> WaLookup | None:
    """Whether ``phone`` (E.164) is on WhatsApp, or None when that cannot be told now.

    Advisory, for warning the seller while saving a client: a session that is not open or
    a sidecar that is down must not stop the client from being saved, so those give None.
    """
    try:
        found = await gateway.lookup(session_id, [phone])
    except (WhatsAppSessionNotOpenError, WhatsAppUnavailableError, WhatsAppSendError):
        return None
    return found[0] if found else None
