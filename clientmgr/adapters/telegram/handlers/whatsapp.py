"""The WhatsApp screen: see whether the seller's number is linked, link it by QR, unlink it.

Linking is a conversation with the phone, not with the bot: after "Conectar" the seller
points the phone at a QR photo, and the sidecar rotates that QR every few seconds. So one
background watcher per seller (``_Watcher``, keyed by account, at most one) polls the
gateway, swaps the photo when the code changes (sends the new one, then deletes the old:
a fresh photo is simpler than editMessageMedia, and it also lands at the bottom of the
chat, where the seller looks), and says "conectado" or "expirou" when the sidecar decides.
Once linked, the numbers of clients saved while WhatsApp was not connected are checked,
and the seller is told which have no WhatsApp (``number_notes.check_book``).
It gives up after a bounded time.

Watchers are tasks of the Application (``create_task``), which ``Application.stop`` waits
for; they check ``application.running`` between short naps, so a stop or a redeploy ends
them within a fraction of a second and none is left pending. They live in ``bot_data``
(never persisted); after a restart the seller taps "Conectar" again and gets a fresh one.
Tunable through ``bot_data``: ``wa_poll_interval`` (s, default 3) and ``wa_watch_timeout``
(s, default 300).
"""

from __future__ import annotations

import asyncio
import contextlib

import phonenumbers
from attrs import define
from loguru import logger
from telegram import InputFile, Update
from telegram.error import BadRequest, TelegramError

from clientmgr.adapters.qrcode import qr_png
from clientmgr.adapters.telegram import number_notes
from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import BotRegistry, Keyboard, keyboard, reply
from clientmgr.core.accounts import Account
from clientmgr.errors import WhatsAppUnavailableError
from clientmgr.ports.whatsapp import WaSession, WaState
from clientmgr.services import by_hand, whatsapp

__all__ = ["POLL_INTERVAL", "WATCH_TIMEOUT", "register", "shown_phone"]

POLL_INTERVAL = 3.0
"""Seconds between two looks at the sidecar while a QR is on screen."""
WATCH_TIMEOUT = 300.0
"""Seconds after which a QR nobody scanned stops being refreshed (the sidecar gives up
sooner, after a few codes; this bounds a sidecar that never does)."""
_STOP_CHECK = 0.2
"""How often a sleeping watcher looks whether the bot is stopping."""
_WATCHERS = "wa_watchers"
QR_TIMEOUT = "qr_timeout"


def shown_phone(e164: str | None) -> str:
    """``+55 11 98888-7777``: the linked number as the seller reads it on WhatsApp."""
    if not e164:
        return "?"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# -- the status screen -------------------------------------------------------------------


def _state_text(session: WaSession | None) -> Raw:
    if session is None:
        return t("wa.state.none")
    if session.state is WaState.OPEN:
        return t("wa.state.open", phone=shown_phone(session.phone))
    if session.state is WaState.QR:
        return t("wa.state.qr")
    if session.state is WaState.CONNECTING:
        return t("wa.state.connecting")
    if session.state is WaState.LOGGED_OUT:
        return t("wa.state.logged_out")
    if session.reason == QR_TIMEOUT:
        return t("wa.state.qr_timeout")
    return t("wa.state.dropped")


def _status_rows(session: WaSession | None, waiting: int) -> Keyboard:
    rows: list[list[tuple[str, str]]] = []
    if session is None or not session.is_open:
        rows.append([(t("wa.connect"), "wa:connect")])
        rows += _by_hand_rows(waiting)
    if session is not None:
        rows.append([(t("wa.disconnect"), "wa:disconnect")])
    rows.append([(t("wa.refresh"), "wa:menu"), (t("common.menu"), "m:home")])
    return rows


def _by_hand_rows(waiting: int) -> Keyboard:
    """ "✋ Enviar à mão (N)" while messages wait for a session that is not open."""
    return [[(t("wa.send_by_hand", count=waiting), "wa:hand")]] if waiting else []


async def _unavailable(update: Update, context: ClientmgrContext, account: Account) -> None:
    waiting = await by_hand.count_waiting(context.services.uow_factory, _account_id(account))
    rows = [*_by_hand_rows(waiting), [(t("wa.retry"), "wa:menu"), (t("common.menu"), "m:home")]]
    await reply(update, t("wa.unavailable"), keyboard(context, rows), edit=False)


async def show_status(
    update: Update, context: ClientmgrContext, account: Account, *, prefix: str = ""
) -> None:
    """The seller's WhatsApp state with what can be done from it."""
    try:
        session = await whatsapp.status(context.services.whatsapp, _account_id(account))
    except WhatsAppUnavailableError:
        await _unavailable(update, context, account)
        return
    waiting = 0
    if session is None or not session.is_open:
        waiting = await by_hand.count_waiting(context.services.uow_factory, _account_id(account))
    text = t("wa.title", state=_state_text(session))
    await reply(update, Raw(prefix + text), keyboard(context, _status_rows(session, waiting)))


async def menu(update: Update, context: ClientmgrContext, account: Account) -> None:
    await show_status(update, context, account)


# -- connecting --------------------------------------------------------------------------


@define
class _Watcher:
    """One seller's QR on screen: what it shows and the task keeping it fresh."""

    account_id: int
    chat_id: int
    session_id: str
    qr: str | None
    message_id: int | None
    task: asyncio.Task[None] | None = None


def _watchers(context: ClientmgrContext) -> dict[int, _Watcher]:
    return context.bot_data.setdefault(_WATCHERS, {})  # type: ignore[no-any-return]


def _setting(context: ClientmgrContext, key: str, default: float) -> float:
    value = context.bot_data.get(key, default)
    return float(value) if isinstance(value, int | float) and value > 0 else default


async def _delete(context: ClientmgrContext, chat_id: int, message_id: int | None) -> None:
    if message_id is None:
        return
    with contextlib.suppress(BadRequest):  # already gone (the seller deleted it)
        await context.bot.delete_message(chat_id, message_id)


async def _stop_watching(context: ClientmgrContext, account_id: int) -> None:
    """Stop refreshing the seller's QR and take the photo away (it would mislead)."""
    watcher = _watchers(context).pop(account_id, None)
    if watcher is None:
        return
    if watcher.task is not None and watcher.task is not asyncio.current_task():
        watcher.task.cancel()
    await _delete(context, watcher.chat_id, watcher.message_id)


async def _send_qr(context: ClientmgrContext, chat_id: int, qr: str | None) -> int:
    """The QR photo (or, before the sidecar has one, a "generating" note); its message id."""
    markup = keyboard(context, [[(t("common.cancel"), "wa:stop")]])
    if qr is None:
        note = await context.bot.send_message(
            chat_id, t("wa.qr_waiting"), parse_mode="HTML", reply_markup=markup
        )
        return note.message_id
    photo = await context.bot.send_photo(
        chat_id,
        InputFile(qr_png(qr), filename="whatsapp-qr.png"),
        caption=t("wa.qr_caption"),
        parse_mode="HTML",
        reply_markup=markup,
    )
    return photo.message_id


async def _nap(context: ClientmgrContext, seconds: float) -> bool:
    """Sleep ``seconds``; False as soon as the bot is stopping (``stop`` waits for us)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while context.application.running:
        left = end - loop.time()
        if left <= 0:
            return True
        await asyncio.sleep(min(left, _STOP_CHECK))
    return False


async def _finish(context: ClientmgrContext, watcher: _Watcher, text: str, rows: Keyboard) -> None:
    if _watchers(context).get(watcher.account_id) is watcher:
        del _watchers(context)[watcher.account_id]
    await _delete(context, watcher.chat_id, watcher.message_id)
    watcher.message_id = None
    await context.bot.send_message(
        watcher.chat_id, text, parse_mode="HTML", reply_markup=keyboard(context, rows)
    )


async def _watch(context: ClientmgrContext, watcher: _Watcher) -> None:
    """Keep the QR fresh until the phone links, the sidecar gives up, or time runs out."""
    gateway = context.services.whatsapp
    interval = _setting(context, "wa_poll_interval", POLL_INTERVAL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _setting(context, "wa_watch_timeout", WATCH_TIMEOUT)
    expired_rows: Keyboard = [[(t("wa.connect"), "wa:connect"), (t("common.menu"), "m:home")]]
    try:
        while await _nap(context, interval):
            if loop.time() >= deadline:
                await _finish(context, watcher, t("wa.qr_expired"), expired_rows)
                return
            try:
                session = await gateway.get_session(watcher.session_id)
            except WhatsAppUnavailableError:
                continue  # transient: look again next time
            if _watchers(context).get(watcher.account_id) is not watcher:
                return  # replaced or stopped while we were asking
            if session is None:  # unlinked meanwhile
                await _stop_watching(context, watcher.account_id)
                return
            if session.is_open:
                await _finish(
                    context,
                    watcher,
                    t("wa.connected", phone=shown_phone(session.phone)),
                    [[(t("menu.whatsapp"), "wa:menu"), (t("common.menu"), "m:home")]],
                )
                note = await number_notes.check_book(context, watcher.account_id)
                if note is not None:
                    await context.bot.send_message(
                        watcher.chat_id,
                        note,
                        parse_mode="HTML",
                        reply_markup=keyboard(context, [[(t("menu.clients"), "cl:list:all:0")]]),
                    )
                return
            if session.state is WaState.CLOSED and session.reason == QR_TIMEOUT:
                await _finish(context, watcher, t("wa.qr_expired"), expired_rows)
                return
            if session.state is WaState.QR and session.qr and session.qr != watcher.qr:
                old = watcher.message_id
                watcher.message_id = await _send_qr(context, watcher.chat_id, session.qr)
                watcher.qr = session.qr
                await _delete(context, watcher.chat_id, old)
    except TelegramError as exc:  # e.g. the seller blocked the bot: nobody to show it to
        logger.info("stopped refreshing the WhatsApp QR of account {}: {}", watcher.account_id, exc)
    except Exception:
        logger.exception("the WhatsApp QR watcher of account {} failed", watcher.account_id)
    finally:
        if _watchers(context).get(watcher.account_id) is watcher:
            del _watchers(context)[watcher.account_id]


async def connect(update: Update, context: ClientmgrContext, account: Account) -> None:
    """Start (or resume) the session; show its QR and keep it fresh, or say it is linked."""
    account_id = _account_id(account)
    try:
        session = await whatsapp.connect(
            context.services.uow_factory,
            context.services.clock,
            context.services.whatsapp,
            account_id,
        )
    except WhatsAppUnavailableError:
        await _unavailable(update, context, account)
        return
    await _stop_watching(context, account_id)
    if session.is_open:
        await reply(
            update,
            t("wa.connected", phone=shown_phone(session.phone)),
            keyboard(context, [[(t("menu.whatsapp"), "wa:menu"), (t("common.menu"), "m:home")]]),
        )
        return
    chat = update.effective_chat
    if chat is None:
        return
    qr = session.qr if session.state is WaState.QR else None
    message_id = await _send_qr(context, chat.id, qr)
    if not context.application.running:
        return  # the bot is stopping: a watcher now would not be waited for
    watcher = _Watcher(account_id, chat.id, session.id, qr, message_id)
    _watchers(context)[account_id] = watcher
    watcher.task = context.application.create_task(
        _watch(context, watcher), name=f"wa-qr-{account_id}"
    )


async def stop(update: Update, context: ClientmgrContext, account: Account) -> None:
    """ "Cancelar" on the QR: stop showing it (the sidecar lets the code lapse by itself)."""
    await _stop_watching(context, _account_id(account))
    await show_status(update, context, account, prefix=t("wa.stopped") + "\n\n")


# -- disconnecting -----------------------------------------------------------------------


async def ask_disconnect(update: Update, context: ClientmgrContext, account: Account) -> None:
    await reply(
        update,
        t("wa.confirm_disconnect"),
        keyboard(
            context, [[(t("wa.confirm_yes"), "wa:disconnect:yes"), (t("common.back"), "wa:menu")]]
        ),
    )


async def disconnect(update: Update, context: ClientmgrContext, account: Account) -> None:
    account_id = _account_id(account)
    await _stop_watching(context, account_id)
    try:
        await whatsapp.disconnect(
            context.services.uow_factory,
            context.services.clock,
            context.services.whatsapp,
            account_id,
        )
    except WhatsAppUnavailableError:
        await _unavailable(update, context, account)
        return
    await reply(
        update,
        t("wa.disconnected"),
        keyboard(context, [[(t("wa.connect"), "wa:connect"), (t("common.menu"), "m:home")]]),
    )


def _account_id(account: Account) -> int:
    if account.id is None:
        raise RuntimeError("a stored account always has an id")
    return account.id


def register(registry: BotRegistry) -> None:
    registry.button("wa:menu", menu)
    registry.button("wa:connect", connect)
    registry.button("wa:stop", stop)
    registry.button("wa:disconnect", ask_disconnect)
    registry.button("wa:disconnect:yes", disconnect)
