"""The bot's small moving parts: signed buttons, flood buckets, per-chat ordering, the catalog."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from babel.messages.pofile import denormalize
from telegram import Chat, Message, Update, User

from clientmgr.adapters.telegram.application import COMMANDS
from clientmgr.adapters.telegram.callbacks import CallbackSigner, ForgedCallbackError
from clientmgr.adapters.telegram.catalog import CATALOG_PATH, Raw, messages, t
from clientmgr.adapters.telegram.flood import TokenBuckets
from clientmgr.adapters.telegram.processor import PerChatUpdateProcessor

TELEGRAM_DIR = Path(__file__).resolve().parents[2] / "clientmgr" / "adapters" / "telegram"

# --- signed callback data ------------------------------------------------------------------


def test_signed_button_round_trips_for_its_user_only():
    signer = CallbackSigner(b"0123456789abcdef-secret")
    data = signer.sign(42, "cc:card:17")
    assert len(data.encode()) <= 64
    assert signer.verify(42, data) == "cc:card:17"
    with pytest.raises(ForgedCallbackError):
        signer.verify(43, data)  # another user replaying it


SIGNER = CallbackSigner(b"0123456789abcdef-secret")
GOOD = SIGNER.sign(42, "cc:card:17")


@pytest.mark.parametrize(
    "data",
    [
        "cc:card:17",  # unsigned
        GOOD.replace("cc:card:17", "cc:card:18"),  # another client id, same signature
        GOOD[:-1] + ("A" if GOOD[-1] != "A" else "B"),  # signature changed
        "",
        "~",
        "cc:card:17~" + "x" * 60,
    ],
)
def test_tampered_or_unsigned_data_is_refused(data):
    with pytest.raises(ForgedCallbackError):
        SIGNER.verify(42, data)


def test_a_different_secret_does_not_verify():
    data = CallbackSigner(b"0123456789abcdef-secret").sign(1, "m:home")
    with pytest.raises(ForgedCallbackError):
        CallbackSigner(b"another-secret-0123456789").verify(1, data)


def test_payload_that_does_not_fit_telegram_is_refused_at_build_time():
    signer = CallbackSigner(b"0123456789abcdef-secret")
    with pytest.raises(ValueError, match="too long"):
        signer.sign(1, "x" * 60)
    with pytest.raises(ValueError, match="malformed"):
        signer.sign(1, "a~b")


# --- flood control -------------------------------------------------------------------------


def test_bucket_allows_a_burst_then_refills_with_time():
    now = [0.0]
    buckets = TokenBuckets(3, 1, lambda: now[0])
    assert [buckets.allow("u") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("other")  # per key
    now[0] += 1.0
    assert buckets.allow("u")
    assert not buckets.allow("u")


def test_idle_buckets_are_forgotten_so_memory_stays_bounded():
    now = [0.0]
    buckets = TokenBuckets(2, 1, lambda: now[0], max_keys=10)
    for key in range(1000):
        buckets.allow(key)
    assert len(buckets._buckets) <= 10


# --- per-chat ordering ---------------------------------------------------------------------


def _update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "U", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, from_user=user, text=str(update_id))  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_is_processed_in_order_while_chats_run_concurrently():
    processor = PerChatUpdateProcessor(max_concurrent_updates=64)
    seen: dict[int, list[int]] = {1: [], 2: []}
    running = {"now": 0, "max": 0}

    async def handle(update: Update) -> None:
        running["now"] += 1
        running["max"] = max(running["max"], running["now"])
        # later updates of a chat finish faster: only a lock keeps them in order
        await asyncio.sleep(0.02 / (update.update_id % 10 + 1))
        seen[update.effective_chat.id].append(update.update_id)
        running["now"] -= 1

    tasks = []
    for update_id in range(1, 41):
        update = _update(update_id, 1 if update_id % 2 else 2)
        tasks.append(asyncio.create_task(processor.process_update(update, handle(update))))
    await asyncio.gather(*tasks)
    assert seen[1] == sorted(seen[1])
    assert len(seen[1]) == 20
    assert seen[2] == sorted(seen[2])
    assert len(seen[2]) == 20
    assert running["max"] == 2  # one per chat at a time, both chats at once
    assert processor._locks == {}  # nothing kept for idle chats


# --- the catalog ---------------------------------------------------------------------------


def test_catalog_parses_and_has_no_duplicate_keys():
    text = CATALOG_PATH.read_text(encoding="utf-8")
    # Multi-line msgids and escaped quotes (the domain's gettext entries) read as Babel does.
    written = re.findall(r'^msgid (".*"(?:\n".*")*)$', text, flags=re.M)
    keys = [key for key in map(denormalize, written) if key]
    assert len(keys) == len(set(keys)), "a msgid appears twice"
    assert set(keys) == set(messages())


def test_every_key_used_in_the_bot_exists():
    used: set[str] = set()
    for path in TELEGRAM_DIR.rglob("*.py"):
        if "emulator" in path.parts:
            continue
        used |= set(re.findall(r'\bt\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    used |= {f"command.{name}" for name in COMMANDS}
    used |= {f"status.{s}" for s in ("trial", "active", "grace", "expired")}
    missing = sorted(used - set(messages()))
    assert not missing, f"keys used but not in the catalog: {missing}"


def test_values_are_escaped_unless_raw():
    assert t("common.error_input", reason="<b>x</b> & y") == "⚠️ &lt;b&gt;x&lt;/b&gt; &amp; y"
    assert t("common.error_input", reason=Raw("<b>ok</b>")) == "⚠️ <b>ok</b>"
