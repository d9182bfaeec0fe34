"""The "Assinatura" screen as a seller sees it: trial days, paying R$ 20,00 by PIX (QR photo and
copia e cola), "Já paguei" before and after Mercado Pago approves, expired sellers paying
their way back, expired charges, a gateway that is down, and the history."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from clientmgr.core.accounts import AccountStatus
from clientmgr.core.pix import parse_brcode
from clientmgr.core.subscriptions import SubscriptionStatus

ZBARIMG = shutil.which("zbarimg")


def qr_text(png: bytes) -> str | None:
    """What a banking app's camera reads from the photo (None without zbarimg)."""
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


def code_of(message) -> str:
    """The copia e cola as the seller copies it (the <code> part)."""
    html = message.html
    return html.split("<code>", 1)[1].split("</code>", 1)[0]


async def open_screen(user):
    await user.press("💳 Assinatura")
    return await user.wait_for_message(contains="Sua assinatura")


async def checkout(user):
    """Tap "Pagar com PIX": the QR photo, then the copia e cola with "Já paguei"."""
    await user.press("💳 Pagar com PIX")
    photo = await user.wait_for_message(where=lambda m: m.photo is not None)
    text = await user.wait_for_message(contains="copia e cola")
    code = code_of(text)
    decoded = qr_text(await user.download(photo))
    assert decoded in (code, None)
    return photo, text, code


async def test_trial_overview(bot):
    user = await bot.seller()
    screen = await open_screen(user)
    assert "🎁 teste grátis" in screen.text
    assert "Faltam 7 dia(s)" in screen.text
    assert "11/03/2026" in screen.text  # 7 days from 04/03, on the seller's calendar
    assert "R$ 20,00/mês" in screen.text
    assert screen.buttons == ["💳 Pagar com PIX", "🧾 Histórico", "🏠 Menu"]


async def test_pay_then_confirm_once(bot):
    user = await bot.seller()
    await open_screen(user)
    photo, text, code = await checkout(user)
    assert "PIX de R$ 20,00" in photo.caption
    assert "04/03/2026 às 10:30" in photo.caption  # 30 minutes to pay, local time
    charge = parse_brcode(code)
    assert charge.amount == Decimal("20.00")
    assert text.buttons == ["✅ Já paguei", "⬅️ Voltar", "🏠 Menu"]
    [mp_id] = bot.payments.payments

    await user.press("✅ Já paguei", message=text)
    pending = await user.wait_for_message(contains="Ainda não recebemos")
    assert "pode levar alguns minutos" in pending.text
    account = await bot.services.account_for(user.id)
    assert account.paid_until is None

    bot.payments.approve(mp_id)
    await user.press("✅ Já paguei", message=pending)
    done = await user.wait_for_message(contains="Pagamento confirmado")
    assert "Assinatura ativa até 11/04/2026" in done.text  # the month starts after the trial
    account = await bot.services.account_for(user.id)
    paid_until = account.paid_until
    assert account.status(bot.clock.now()) is AccountStatus.ACTIVE

    await user.press("✅ Já paguei", message=text)  # again, from the first message
    again = await user.wait_for_message(contains="Pagamento confirmado")
    assert "11/04/2026" in again.text
    assert (await bot.services.account_for(user.id)).paid_until == paid_until

    await user.press("💳 Assinatura", message=again)
    screen = await user.wait_for_message(contains="Sua assinatura")
    assert "✅ ativa" in screen.text
    assert "paga até <b>11/04/2026</b>" in screen.html
    assert not bot.emulator.failed_calls


async def test_a_second_tap_shows_the_same_charge(bot):
    user = await bot.seller()
    await open_screen(user)
    _, _, first = await checkout(user)
    await user.press("💳 Pagar com PIX")
    await user.wait_for_message(where=lambda m: m.photo is not None)
    second = code_of(await user.wait_for_message(contains="copia e cola"))
    assert first == second
    assert len(bot.payments.payments) == 1

    await user.press("⬅️ Voltar")
    screen = await user.wait_for_message(contains="Sua assinatura")
    assert "PIX aberto de R$ 20,00" in screen.text


async def test_expired_seller_sees_vencida_and_pays_back(bot):
    user = await bot.seller()
    bot.clock.advance(days=8)
    screen = await open_screen(user)
    assert "⚠️ em carência" in screen.text
    assert "Pague até <b>14/03/2026</b>" in screen.html

    bot.clock.advance(days=7)  # 15 days after signing up
    await user.send("/menu")
    await user.wait_for_message(contains="Menu principal")
    screen = await open_screen(user)
    assert "🔒 vencida" in screen.text
    assert "Venceu em <b>11/03/2026</b>" in screen.html

    _, text, _ = await checkout(user)
    [mp_id] = bot.payments.payments
    bot.payments.approve(mp_id)
    await user.press("✅ Já paguei", message=text)
    done = await user.wait_for_message(contains="Pagamento confirmado")
    assert "Assinatura ativa até 19/04/2026" in done.text  # a month from today, not back-dated
    account = await bot.services.account_for(user.id)
    assert account.status(bot.clock.now()) is AccountStatus.ACTIVE


async def test_an_expired_charge_offers_a_new_one(bot):
    user = await bot.seller()
    await open_screen(user)
    _, text, first = await checkout(user)
    [mp_id] = bot.payments.payments
    bot.payments.expire(mp_id)
    await user.press("✅ Já paguei", message=text)
    expired = await user.wait_for_message(contains="expirou sem pagamento")
    assert "💳 Gerar novo PIX" in expired.buttons

    await user.press("💳 Gerar novo PIX")
    await user.wait_for_message(where=lambda m: m.photo is not None)
    second = code_of(await user.wait_for_message(contains="copia e cola"))
    assert second != first
    assert len(bot.payments.payments) == 2


async def test_a_charge_past_its_time_is_not_reused(bot):
    user = await bot.seller()
    await open_screen(user)
    _, text, first = await checkout(user)
    bot.clock.advance(minutes=31)
    await user.press("✅ Já paguei", message=text)
    await user.wait_for_message(contains="expirou sem pagamento")
    await user.press("💳 Gerar novo PIX")
    second = code_of(await user.wait_for_message(contains="copia e cola"))
    assert second != first


async def test_a_rejected_charge_says_so(bot):
    user = await bot.seller()
    await open_screen(user)
    _, text, _ = await checkout(user)
    [mp_id] = bot.payments.payments
    bot.payments.reject(mp_id)
    await user.press("✅ Já paguei", message=text)
    rejected = await user.wait_for_message(contains="não vale mais")
    assert "❌ recusado" in rejected.text
    assert "💳 Gerar novo PIX" in rejected.buttons


async def test_mercado_pago_down_is_explained(bot):
    user = await bot.seller()
    await open_screen(user)
    bot.payments.down = True
    await user.press("💳 Pagar com PIX")
    down = await user.wait_for_message(contains="Mercado Pago não respondeu")
    assert "🔄 Tentar de novo" in down.buttons
    assert not bot.payments.payments

    bot.payments.down = False
    await user.press("🔄 Tentar de novo")
    _, text, _ = await checkout(user)
    bot.payments.down = True
    await user.press("✅ Já paguei", message=text)
    await user.wait_for_message(contains="Mercado Pago não respondeu")
    bot.payments.down = False
    await user.press("✅ Já paguei")
    await user.wait_for_message(contains="Ainda não recebemos")


async def test_history_lists_charges_newest_first(bot):
    user = await bot.seller()
    await open_screen(user)
    await user.press("🧾 Histórico")
    empty = await user.wait_for_message(contains="ainda não tem pagamentos")
    assert empty.buttons == ["⬅️ Voltar", "🏠 Menu"]
    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="Sua assinatura")

    _, text, _ = await checkout(user)
    [mp_id] = bot.payments.payments
    bot.payments.approve(mp_id)
    await user.press("✅ Já paguei", message=text)
    await user.wait_for_message(contains="Pagamento confirmado")
    bot.clock.advance(hours=2)
    await user.press("💳 Assinatura")
    await user.wait_for_message(contains="Sua assinatura")
    await checkout(user)  # paying the next month early

    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="Sua assinatura")
    await user.press("🧾 Histórico")
    listed = await user.wait_for_message(contains="Seus pagamentos")
    lines = [line for line in listed.text.splitlines() if line.startswith("•")]
    assert lines == [
        "• 04/03/2026 às 12:00 — R$ 20,00 — ⏳ aguardando pagamento",
        "• 04/03/2026 às 10:00 — R$ 20,00 — ✅ pago",
    ]


async def test_another_sellers_charge_cannot_be_checked(bot):
    ana = await bot.seller()
    await open_screen(ana)
    await checkout(ana)
    [mp_id] = bot.payments.payments
    bot.payments.approve(mp_id)

    bia = await bot.seller(id=1002, first_name="Bia")
    forged = bot.services.signer.sign(bia.id, f"sub:check:{mp_id}")  # a valid button, wrong id
    query = await bia.press_data(forged)
    answer = await bia.wait_for_answer(query)
    assert "antigo" in answer.answer_text
    await bia.wait_for_message(contains="Menu principal")
    async with bot.uow_factory() as uow:
        charge = await uow.subscriptions.get_by_mp_id(mp_id)
    assert charge.status is SubscriptionStatus.PENDING
    assert not charge.applied
    assert (await bot.services.account_for(ana.id)).paid_until is None


async def test_the_expired_message_leads_to_paying(bot):
    user = await bot.seller()
    bot.clock.advance(days=15)
    await user.press("📱 WhatsApp")
    await user.wait_for_message(contains="WhatsApp")
    await user.press("🔗 Conectar")
    refused = await user.wait_for_message(contains="Sua assinatura venceu")
    await user.press("💳 Renovar assinatura", message=refused)
    screen = await user.wait_for_message(contains="Sua assinatura")
    assert "🔒 vencida" in screen.text
