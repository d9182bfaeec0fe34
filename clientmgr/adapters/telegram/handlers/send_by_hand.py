"""Send by hand: the messages waiting for the seller's WhatsApp, as ready ``wa.me`` links.

While the seller's WhatsApp is not connected the queue waits. From this screen the seller
opens each waiting message in WhatsApp with its text typed in, sends it from the phone,
and taps "Já enviei", so it does not go out again when the session comes back
(``services.by_hand``).

Payloads: ``wa:hand`` the screen (up to ``by_hand.PAGE_SIZE`` messages, oldest due first:
marking one brings the next in); ``wa:hand:ok:<id>`` mark one sent by hand and show the
screen again with a short answer. An id that is unknown or another account's (a valid
but old button) is answered as not found, never as a crash.

With the session open nothing is listed: the queue sends by itself, and a message sent
by hand as well could reach the client twice.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import BotRegistry, button, reply
from clientmgr.adapters.telegram.handlers.client_actions import MAX_URL, whatsapp_open
from clientmgr.adapters.telegram.handlers.client_card import ID, account_id, clip, match
from clientmgr.core.accounts import Account
from clientmgr.errors import MessageNotQueuedError, NotFoundError
from clientmgr.services import by_hand
from clientmgr.services.by_hand import HandMessage

__all__ = ["FIRST_WORDS", "first_words", "register", "show"]

FIRST_WORDS = 60
"""Characters of a message's start shown in its line (the link carries the whole text)."""
_NAME_ON_BUTTON = 20


def first_words(text: str, limit: int = FIRST_WORDS) -> str:
    """The start of ``text`` on one line, cut at a word with "…" when longer than ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"


def _message_row(context: ClientmgrContext, hand: HandMessage) -> list[InlineKeyboardButton]:
    row = []
    if len(hand.link) <= MAX_URL:
        label = t("hand.open", name=clip(hand.name, _NAME_ON_BUTTON))
        row.append(InlineKeyboardButton(label, url=hand.link))
    row.append(button(context, t("hand.done"), f"wa:hand:ok:{hand.id}"))
    return row


async def show(
    update: Update, context: ClientmgrContext, account: Account, *, prefix: str = ""
) -> None:
    """wa:hand — the waiting messages, each with its link and its "Já enviei"."""
    rows: list[list[InlineKeyboardButton]] = []
    if await whatsapp_open(context, account):
        text = t("hand.connected")
    else:
        waiting = await by_hand.waiting_messages(context.services.uow_factory, account_id(account))
        if waiting.messages:
            lines = "\n".join(
                t("hand.line", number=n, name=hand.name, text=first_words(hand.message.text))
                for n, hand in enumerate(waiting.messages, start=1)
            )
            more = (
                t("hand.more", shown=len(waiting.messages), total=waiting.total)
                if waiting.total > len(waiting.messages)
                else ""
            )
            text = t("hand.waiting", lines=Raw(lines), more=Raw(more))
            rows += [_message_row(context, hand) for hand in waiting.messages]
        else:
            text = t("hand.empty")
        rows.append([button(context, t("hand.connect"), "wa:connect")])
    rows.append(
        [button(context, t("wa.refresh"), "wa:hand"), button(context, t("common.menu"), "m:home")]
    )
    await reply(update, Raw(prefix + text), InlineKeyboardMarkup(rows))


async def mark_sent(update: Update, context: ClientmgrContext, account: Account) -> None:
    """wa:hand:ok:<id> — the seller sent it by hand: take it out of the queue."""
    services = context.services
    try:
        hand = await by_hand.mark_sent_by_hand(
            services.uow_factory, services.clock, account_id(account), int(match(context))
        )
    except MessageNotQueuedError as exc:
        answer = t("common.error_input", reason=str(exc))
    except NotFoundError:
        answer = t("hand.not_found")
    else:
        answer = t("hand.marked", name=hand.name)
    await show(update, context, account, prefix=answer + "\n\n")


def register(registry: BotRegistry) -> None:
    registry.button("wa:hand", show)
    registry.button(rf"wa:hand:ok:{ID}", mark_sent)
