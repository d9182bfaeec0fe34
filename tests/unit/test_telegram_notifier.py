"""The Telegram notifier's buttons: each notice action becomes a button signed for the seller,
opening the bot's own screen (the emulator test in tests/e2e/test_web_events.py sends them)."""

from __future__ import annotations

from typing import Any

import pytest

from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.notifier import TelegramNotifier
from clientmgr.ports.notifier import NoticeAction, SellerNotice

SELLER = 4242


class RecordingBot:
    """Stands in for ``telegram.Bot``: keeps what would have been sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def initialize(self) -> None:
        return None

    async def send_message(self, chat_id: int, text: str, **options: Any) -> None:
        self.messages.append({"chat_id": chat_id, "text": text, **options})


@pytest.fixture
def signer() -> CallbackSigner:
    return CallbackSigner(b"unit-tests-callback-secret-0123")


async def test_send_by_hand_opens_the_waiting_messages_screen(signer):
    bot = RecordingBot()
    notifier = TelegramNotifier(bot, signer)  # type: ignore[arg-type]
    notice = SellerNotice(
        "events.wa_logged_out",
        buttons=(NoticeAction.CONNECT_WHATSAPP, NoticeAction.SEND_BY_HAND, NoticeAction.WHATSAPP),
    )
    await notifier.notify(SELLER, notice)

    [sent] = bot.messages
    assert sent["chat_id"] == SELLER
    rows = sent["reply_markup"].inline_keyboard
    assert [[b.text for b in row] for row in rows] == [
        ["🔗 Conectar", "✋ Enviar à mão"],
        ["📱 WhatsApp"],
    ]
    by_hand = rows[0][1]
    assert signer.verify(SELLER, by_hand.callback_data) == "wa:hand"
    assert by_hand.callback_data != "wa:hand"  # signed, not the bare payload


@pytest.mark.parametrize("action", list(NoticeAction))
async def test_every_action_has_a_signed_button(signer, action):
    bot = RecordingBot()
    notifier = TelegramNotifier(bot, signer)  # type: ignore[arg-type]
    await notifier.notify(
        SELLER, SellerNotice("events.wa_logged_out", buttons=(action,), client_id=7)
    )
    [[button]] = bot.messages[0]["reply_markup"].inline_keyboard
    assert signer.verify(SELLER, button.callback_data)
