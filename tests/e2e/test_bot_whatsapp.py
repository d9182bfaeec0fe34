"""The WhatsApp screen as a seller sees it: status, linking by a QR that keeps itself fresh,
unlinking, a sidecar that is down, an expired subscription — and no watcher left behind."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

from clientmgr.services.whatsapp import session_id_for

PHONE = "+5511988887777"
SHOWN = "+55 11 98888-7777"
ZBARIMG = shutil.which("zbarimg")


def qr_text(png: bytes) -> str | None:
    """What a phone camera reads from the photo (None when zbarimg is not installed)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    if ZBARIMG is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "qr.png"
        image.write_bytes(png)
        done = subprocess.run(
            [ZBARIMG, "--raw", "--quiet", "-Sdisable", "-Sqrcode.enable", "-Sbinary", str(image)],
            capture_output=True,
            check=True,
            timeout=30,
        )
    return done.stdout.decode("utf-8").removesuffix("\n")


def watchers() -> list[asyncio.Task]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("wa-qr-") and not task.done()
    ]


async def wa_seller(bot, **kwargs):
    """An onboarded seller on the WhatsApp screen; the bot polls the sidecar quickly."""
    bot.application.bot_data["wa_poll_interval"] = 0.02
    user = await bot.seller(**kwargs)
    account = await bot.services.account_for(user.id)
    await user.press("📱 WhatsApp")
    await user.wait_for_message(contains="📱 WhatsApp")
    return user, session_id_for(account.id)


async def show_qr(bot, user, session_id):
    await user.press("🔗 Conectar")
    photo = await user.wait_for_message(where=lambda m: m.photo is not None)
    session = await bot.whatsapp.get_session(session_id)
    decoded = qr_text(await user.download(photo))
    if decoded is not None:
        assert decoded == session.qr
    return photo


async def test_status_connect_rotate_and_scan(bot):
    user, session_id = await wa_seller(bot)
    status = user.last_message
    assert "desconectado" in status.text
    assert status.buttons == ["🔗 Conectar", "🔄 Atualizar", "🏠 Menu"]

    photo = await show_qr(bot, user, session_id)
    assert "Aparelhos conectados" in photo.caption
    assert "Conectar um aparelho" in photo.caption
    assert photo.buttons == ["✖️ Cancelar"]

    new_qr = bot.whatsapp.rotate_qr(session_id)
    fresh = await user.wait_for_message(
        where=lambda m: m.photo is not None and m.message_id != photo.message_id
    )
    assert qr_text(await user.download(fresh)) in (new_qr, None)
    await bot.emulator.wait_idle()
    assert photo.deleted  # only the code that works stays on screen

    bot.whatsapp.scan(session_id, PHONE)
    done = await user.wait_for_message(contains="✅ WhatsApp conectado")
    assert SHOWN in done.text
    await bot.emulator.wait_idle()
    assert fresh.deleted
    assert not watchers()

    await user.press("📱 WhatsApp", message=done)
    status = await user.wait_for_message(contains="conectado com")
    assert SHOWN in status.text
    assert status.buttons == ["🔌 Desconectar", "🔄 Atualizar", "🏠 Menu"]


async def test_too_many_codes_expire_the_qr_and_connect_starts_again(bot):
    user, session_id = await wa_seller(bot)
    await show_qr(bot, user, session_id)
    while bot.whatsapp.rotate_qr(session_id) is not None:
        pass
    expired = await user.wait_for_message(contains="O QR code expirou")
    assert "Toque em Conectar para tentar de novo" in expired.text
    assert not [m for m in user.bot_messages if m.photo is not None]
    await bot.emulator.wait_idle()
    assert not watchers()

    photo = await show_qr(bot, user, session_id)  # Conectar on the expired message
    assert photo.photo is not None
    bot.whatsapp.scan(session_id, PHONE)
    await user.wait_for_message(contains="✅ WhatsApp conectado")


async def test_an_unscanned_qr_stops_being_refreshed_after_a_while(bot):
    user, session_id = await wa_seller(bot)
    bot.application.bot_data["wa_watch_timeout"] = 0.2
    await show_qr(bot, user, session_id)
    await user.wait_for_message(contains="O QR code expirou")
    await bot.emulator.wait_idle()
    assert not watchers()


async def test_cancel_takes_the_qr_away(bot):
    user, session_id = await wa_seller(bot)
    photo = await show_qr(bot, user, session_id)
    await user.press("✖️ Cancelar", message=photo)
    status = await user.wait_for_message(contains="tirei o QR code")
    assert "aguardando leitura do QR" in status.text
    await bot.emulator.wait_idle()
    assert photo.deleted
    assert not watchers()
    bot.whatsapp.rotate_qr(session_id)  # nobody refreshes it any more
    await asyncio.sleep(0.1)
    assert not [m for m in user.bot_messages if m.photo is not None]


async def test_connect_twice_keeps_one_qr_and_one_watcher(bot):
    user, session_id = await wa_seller(bot)
    first = await show_qr(bot, user, session_id)
    await user.press("🔄 Atualizar")
    await user.wait_for_message(contains="aguardando leitura")
    second = await show_qr(bot, user, session_id)
    await bot.emulator.wait_idle()
    assert first.deleted
    assert not second.deleted
    assert len(watchers()) == 1
    bot.whatsapp.scan(session_id, PHONE)
    await user.wait_for_message(contains="✅ WhatsApp conectado")


async def test_disconnect_asks_first(bot):
    user, session_id = await wa_seller(bot)
    await show_qr(bot, user, session_id)
    bot.whatsapp.scan(session_id, PHONE)
    done = await user.wait_for_message(contains="✅ WhatsApp conectado")
    await user.press("📱 WhatsApp", message=done)
    await user.wait_for_message(contains="conectado com")

    await user.press("🔌 Desconectar")
    ask = await user.wait_for_message(contains="Quer mesmo desconectar")
    assert ask.buttons == ["✅ Sim, desconectar", "⬅️ Voltar"]
    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="conectado com")
    assert (await bot.whatsapp.get_session(session_id)).is_open

    await user.press("🔌 Desconectar")
    await user.wait_for_message(contains="Quer mesmo desconectar")
    await user.press("✅ Sim, desconectar")
    gone = await user.wait_for_message(contains="WhatsApp desconectado")
    assert "🔗 Conectar" in gone.buttons
    assert await bot.whatsapp.get_session(session_id) is None
    await user.press("🏠 Menu", message=gone)
    await user.wait_for_message(contains="Menu principal")
    await user.press("📱 WhatsApp")
    status = await user.wait_for_message(contains="WhatsApp")
    assert "desconectado" in status.text


async def test_disconnect_while_the_qr_is_showing_removes_it(bot):
    user, session_id = await wa_seller(bot)
    photo = await show_qr(bot, user, session_id)
    await user.press("🔄 Atualizar")
    await user.wait_for_message(contains="aguardando leitura")
    await user.press("🔌 Desconectar")
    await user.wait_for_message(contains="Quer mesmo desconectar")
    await user.press("✅ Sim, desconectar")
    await user.wait_for_message(contains="WhatsApp desconectado")
    await bot.emulator.wait_idle()
    assert photo.deleted
    assert not watchers()


async def test_a_dropped_connection_resumes_without_a_qr(bot):
    user, session_id = await wa_seller(bot)
    await show_qr(bot, user, session_id)
    bot.whatsapp.scan(session_id, PHONE)
    done = await user.wait_for_message(contains="✅ WhatsApp conectado")
    bot.whatsapp.drop(session_id)
    await user.press("📱 WhatsApp", message=done)
    status = await user.wait_for_message(contains="a conexão caiu")
    assert "🔗 Conectar" in status.buttons
    await user.press("🔗 Conectar")
    again = await user.wait_for_message(contains="✅ WhatsApp conectado")
    assert SHOWN in again.text
    assert not [m for m in user.bot_messages if m.photo is not None]


async def test_sidecar_down_gets_a_friendly_answer(bot):
    user, session_id = await wa_seller(bot)
    bot.whatsapp.down = True
    await user.press("🔗 Conectar")
    down = await user.wait_for_message(contains="fora do ar")
    assert "tente em alguns minutos" in down.text
    await user.press("🔄 Tentar de novo")
    await user.wait_for_message(contains="fora do ar")
    assert not bot.emulator.failed_calls

    bot.whatsapp.down = False
    await user.press("🔄 Tentar de novo")
    status = await user.wait_for_message(contains="desconectado")
    assert "🔗 Conectar" in status.buttons
    await show_qr(bot, user, session_id)

    bot.whatsapp.down = True  # down while the QR is on screen: keeps waiting, no crash
    await asyncio.sleep(0.1)
    bot.whatsapp.down = False
    bot.whatsapp.scan(session_id, PHONE)
    await user.wait_for_message(contains="✅ WhatsApp conectado")


async def test_expired_seller_cannot_connect_but_sees_status_and_disconnects(bot):
    user, session_id = await wa_seller(bot)
    await show_qr(bot, user, session_id)
    bot.whatsapp.scan(session_id, PHONE)
    await user.wait_for_message(contains="✅ WhatsApp conectado")

    bot.clock.advance(days=15)
    await user.send("/menu")
    await user.wait_for_message(contains="assinatura vencida")
    await user.press("📱 WhatsApp")
    status = await user.wait_for_message(contains="conectado com")
    assert SHOWN in status.text
    await user.press("🔌 Desconectar")
    await user.wait_for_message(contains="Quer mesmo desconectar")
    await user.press("✅ Sim, desconectar")
    await user.wait_for_message(contains="WhatsApp desconectado")

    await user.press("🔗 Conectar")
    refused = await user.wait_for_message(contains="Sua assinatura venceu")
    assert "💳 Renovar assinatura" in refused.buttons
    assert await bot.whatsapp.get_session(session_id) is None
    assert not [m for m in user.bot_messages if m.photo is not None]


async def test_a_restart_leaves_no_watcher_behind(bot):
    user, session_id = await wa_seller(bot)
    await show_qr(bot, user, session_id)
    [task] = watchers()
    await bot.restart()
    assert task.done()
    assert not watchers()

    bot.application.bot_data["wa_poll_interval"] = 0.02
    await user.send("/menu")
    await user.wait_for_message(contains="Menu principal")
    await user.press("📱 WhatsApp")
    status = await user.wait_for_message(contains="aguardando leitura")
    assert "🔗 Conectar" in status.buttons
    await show_qr(bot, user, session_id)
    bot.whatsapp.scan(session_id, PHONE)
    await user.wait_for_message(contains="✅ WhatsApp conectado")
    await bot.restart()
    assert not watchers()
