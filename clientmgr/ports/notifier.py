"""The seller-notifier port: tell a seller something in the bot, outside any conversation.

Things happen while the seller is not looking (the WhatsApp session drops, a client answers
"SAIR"), and the seller must hear of them in Telegram. Use cases name *what* to say as a
catalog key with values (``events.client_opted_out``, ``name=...``), never the words: the
pt-BR text and its HTML live in the bot's message catalog, which the Telegram adapter
owns. A notice may carry a QR code to draw (the text WhatsApp gave, drawn by the adapter)
and buttons naming what the seller can do next, which the adapter turns into the bot's
own signed buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from attrs import field, frozen

from clientmgr.errors import ClientmgrError

__all__ = ["NoticeAction", "SellerNotice", "SellerNotifier", "SellerUnreachableError"]


class NoticeAction(StrEnum):
    """A button under a notice: where one tap takes the seller."""

    WHATSAPP = "whatsapp"
    """The 📱 WhatsApp screen (state, connect, disconnect)."""
    CONNECT_WHATSAPP = "connect_whatsapp"
    """Start linking at once: the bot shows a QR code it keeps fresh."""
    SEND_BY_HAND = "send_by_hand"
    """The messages waiting for the seller's WhatsApp, to send by hand from the phone."""
    CLIENT = "client"
    """The card of ``SellerNotice.client_id``."""
    SUBSCRIPTION = "subscription"
    """The 💳 Assinatura screen: the seller's plan, paying by PIX."""
    MENU = "menu"
    """The bot's main menu."""


@frozen
class SellerNotice:
    """One message to a seller: the catalog ``key``, the ``values`` it fills in, an optional
    ``qr`` text to draw as a QR code (the message becomes its caption) and ``buttons``."""

    key: str
    values: Mapping[str, str] = field(factory=dict)
    qr: str | None = None
    buttons: tuple[NoticeAction, ...] = ()
    client_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if NoticeAction.CLIENT in self.buttons and self.client_id is None:
            raise ValueError("a CLIENT button needs the notice's client_id")


class SellerUnreachableError(ClientmgrError, ConnectionError):
    """The notice could not be delivered now (Telegram down, timed out): try again later.

    A seller who blocked the bot is *not* this: that is permanent, the notifier logs it and
    returns, since retrying would never succeed.
    """


class SellerNotifier(Protocol):
    async def notify(self, telegram_id: int, notice: SellerNotice) -> None:
        """Send ``notice`` to the seller's private chat with the bot.

        Raises SellerUnreachableError when it could not be sent now but might later.
        """
