"""The seller notifier on Telegram: a notice becomes a message (or a QR photo) from the bot.

Used outside the bot's own updates (the web runner's sidecar events), so it holds a plain
``telegram.Bot`` and signs its buttons itself, with the bot's ``CallbackSigner``, for the
seller who will press them; they lead into the bot's own screens. A seller who blocked
the bot, or a chat Telegram no longer knows, is logged and skipped (retrying cannot help);
anything transient becomes SellerUnreachableError so the caller retries later.
"""

from __future__ import annotations

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, TelegramError

from clientmgr.adapters.qrcode import qr_png
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.catalog import t
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerUnreachableError

__all__ = ["TelegramNotifier"]

# What each action opens: (catalog key of the label, callback payload of the bot's handler).
_BUTTONS: dict[NoticeAction, tuple[str, str]] = {
    NoticeAction.WHATSAPP: ("menu.whatsapp", "wa:menu"),
    NoticeAction.CONNECT_WHATSAPP: ("wa.connect", "wa:connect"),
    NoticeAction.SEND_BY_HAND: ("hand.notice_button", "wa:hand"),
    NoticeAction.CLIENT: ("events.open_client", "cc:card:{client_id}"),
    NoticeAction.SUBSCRIPTION: ("menu.subscription", "sub:menu"),
    NoticeAction.MENU: ("common.menu", "m:home"),
}

_PER_ROW = 2


class TelegramNotifier:
    """Implements ``SellerNotifier`` with the bot's catalog, buttons and QR drawing.

    ``bot`` is initialised on first use when the caller has not done so.
    """

    def __init__(self, bot: Bot, signer: CallbackSigner) -> None:
        self._bot = bot
        self._signer = signer
        self._ready = False

    async def notify(self, telegram_id: int, notice: SellerNotice) -> None:
        text = t(notice.key, **notice.values)
        markup = self._markup(telegram_id, notice)
        try:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True
            photo = _qr_photo(notice.qr)
            if photo is not None:
                await self._bot.send_photo(
                    telegram_id,
                    InputFile(photo, filename="whatsapp-qr.png"),
                    caption=text,
                    parse_mode="HTML",
                    reply_markup=markup,
                )
            else:
                await self._bot.send_message(
                    telegram_id, text, parse_mode="HTML", reply_markup=markup
                )
        except (Forbidden, BadRequest) as exc:
            logger.warning(
                "notice {} not delivered to seller {}: {} (not retried)",
                notice.key,
                telegram_id,
                exc.message,
            )
        except TelegramError as exc:
            raise SellerUnreachableError(
                f"Telegram did not take notice {notice.key}: {exc.message}"
            ) from exc

    def _markup(self, telegram_id: int, notice: SellerNotice) -> InlineKeyboardMarkup | None:
        if not notice.buttons:
            return None
        found = []
        for action in notice.buttons:
            label, payload = _BUTTONS[action]
            data = self._signer.sign(telegram_id, payload.format(client_id=notice.client_id))
            found.append(InlineKeyboardButton(t(label), callback_data=data))
        # Two a row: three labels side by side get cut short on a phone.
        return InlineKeyboardMarkup(
            [found[i : i + _PER_ROW] for i in range(0, len(found), _PER_ROW)]
        )


def _qr_photo(qr: str | None) -> bytes | None:
    """The QR drawn, or None (the notice goes as text) when there is none or it is undrawable."""
    if qr is None:
        return None
    try:
        return qr_png(qr)
    except ValueError:
        logger.warning("a QR code of {} characters cannot be drawn; sent as text", len(qr))
        return None
