"""💬 Mensagens as a seller sees it: view, preview, edit, save, restore, and the régua."""

from __future__ import annotations

from datetime import time

from clientmgr.core.rendering import DEFAULT_TEMPLATES, VARIABLES
from clientmgr.core.templates import TemplateKind
from clientmgr.services import templates

GOOD = "Oi {nome}! Seu {plano} de {valor} vence em {vencimento}. {empresa}"


async def stored(bot, user, kind: TemplateKind) -> tuple[str, bool]:
    account = await bot.services.account_for(user.id)
    return await templates.get_template_text(bot.uow_factory, account.id, kind)


async def open_kind(user, label: str = "⏳ Antes do vencimento"):
    await user.press("💬 Mensagens")
    await user.wait_for_message(contains="Mensagens")
    await user.press(label)
    return await user.wait_for_message(contains="Texto atual")


async def start_edit(user, label: str = "⏳ Antes do vencimento"):
    await open_kind(user, label)
    await user.press("✏️ Editar")
    return await user.wait_for_message(contains="Novo texto")


async def test_menu_and_default_text_with_preview(bot):
    user = await bot.seller()
    await user.press("💬 Mensagens")
    menu = await user.wait_for_message(contains="Mensagens")
    for name in (
        "Antes do vencimento",
        "No dia do vencimento",
        "Em atraso",
        "Recibo de pagamento",
        "Mensagem avulsa",
    ):
        assert f"{name} (padrão)" in menu.text
    assert "3 dias antes, no dia, 1 dia depois, 3 dias depois; das 08:00 às 20:00" in menu.text
    assert "⏰ Régua de lembretes" in menu.buttons

    await user.press("⏳ Antes do vencimento")
    view = await user.wait_for_message(contains="Texto atual")
    assert "Antes do vencimento (padrão)" in view.text
    assert "Olá, {nome}! Tudo bem?" in view.text  # the text itself, braces and all
    assert "Olá, Maria Silva! Tudo bem?" in view.text  # the live preview
    assert "R$ 35,90" in view.text
    assert "07/03/2026" in view.text
    assert "Ana Fitness" in view.text
    assert "Na sua régua: 3 dias antes." in view.text
    assert "<pre>" in view.html
    assert "<blockquote>" in view.html
    assert "↩️ Restaurar padrão" not in view.buttons
    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="Toque em um para ver")

    await user.press("⚠️ Em atraso")
    overdue = await user.wait_for_message(contains="Texto atual")
    assert "venceu em 01/03/2026" in overdue.text
    assert "1 dia depois, 3 dias depois" in overdue.text


async def test_unknown_variable_is_explained_and_nothing_is_saved(bot):
    user = await bot.seller()
    prompt = await start_edit(user)
    for name, meaning in VARIABLES.items():
        assert f"{{{name}}} — {meaning}" in prompt.text
    assert "Olá, {nome}! Tudo bem?" in prompt.text  # current text, ready to copy
    await user.send("Oi {nomee}, pague {valor")
    error = await user.wait_for_message(contains="⚠️")
    assert "{nomee}" in error.text
    assert "você quis dizer {nome}?" in error.text
    assert "Variáveis válidas: {nome}, {plano}, {valor}" in error.text
    assert await stored(bot, user, TemplateKind.BEFORE_DUE) == (
        DEFAULT_TEMPLATES[TemplateKind.BEFORE_DUE],
        True,
    )
    await user.send(GOOD)  # still on the same step: the corrected text is taken
    await user.wait_for_message(contains="Assim o cliente vai receber")


async def test_edit_preview_save_then_restore_default(bot):
    user = await bot.seller()
    await start_edit(user)
    await user.send(GOOD)
    preview = await user.wait_for_message(contains="Assim o cliente vai receber")
    assert "Oi Maria Silva! Seu Plano Mensal de R$ 35,90 vence em 07/03/2026. Ana Fitness" in (
        preview.text
    )
    assert preview.buttons == ["✅ Salvar", "✏️ Editar de novo", "✖️ Cancelar"]
    assert await stored(bot, user, TemplateKind.BEFORE_DUE) != (GOOD, False)  # a draft only

    await user.press("✏️ Editar de novo")
    again = await user.wait_for_message(contains="Seu rascunho")
    assert GOOD in again.text
    await user.send(GOOD + " Até logo!")
    await user.wait_for_message(contains="Até logo!")
    await user.press("✅ Salvar", message=preview)  # the older preview's button
    newest = await user.wait_for_message(contains="prévia antiga")
    assert "Até logo!" in newest.text
    assert await stored(bot, user, TemplateKind.BEFORE_DUE) != (GOOD, False)
    await user.press("✅ Salvar")
    saved = await user.wait_for_message(contains="Mensagem salva")
    assert "Antes do vencimento (personalizado)" in saved.text
    assert await stored(bot, user, TemplateKind.BEFORE_DUE) == (GOOD + " Até logo!", False)
    await user.press("⬅️ Voltar")
    menu = await user.wait_for_message(contains="Toque em um para ver")
    assert "Antes do vencimento (personalizado)" in menu.text
    assert "Em atraso (padrão)" in menu.text


async def test_restore_default_asks_first(bot):
    user = await bot.seller()
    account = await bot.services.account_for(user.id)
    await templates.save_template(
        bot.uow_factory, bot.clock, account.id, TemplateKind.BEFORE_DUE, GOOD
    )
    await user.press("💬 Mensagens")
    menu = await user.wait_for_message(contains="Mensagens")
    assert "Antes do vencimento (personalizado)" in menu.text
    await user.press("⏳ Antes do vencimento")
    await user.wait_for_message(contains="(personalizado)")
    await user.press("↩️ Restaurar padrão")
    confirm = await user.wait_for_message(contains="Voltar ao texto padrão")
    assert "Olá, {nome}! Tudo bem?" in confirm.text
    await user.press("⬅️ Não, manter o meu")
    await user.wait_for_message(contains="(personalizado)")
    await user.press("↩️ Restaurar padrão")
    await user.wait_for_message(contains="Voltar ao texto padrão")
    await user.press("✅ Sim, restaurar o padrão")
    restored = await user.wait_for_message(contains="Texto padrão restaurado")
    assert "Antes do vencimento (padrão)" in restored.text
    assert (await stored(bot, user, TemplateKind.BEFORE_DUE))[1] is True


async def test_a_restart_mid_edit_keeps_the_draft(bot):
    user = await bot.seller()
    await start_edit(user, "🧾 Recibo de pagamento")
    await bot.restart()
    await user.send(GOOD)  # still waiting for the text after the redeploy
    await user.wait_for_message(contains="Assim o cliente vai receber")
    await bot.restart()
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Mensagem salva")
    assert await stored(bot, user, TemplateKind.RECEIPT) == (GOOD, False)
    await user.press("⬅️ Voltar")
    menu = await user.wait_for_message(contains="Toque em um para ver")
    assert "Recibo de pagamento (personalizado)" in menu.text


async def test_cancel_mid_edit_saves_nothing(bot):
    user = await bot.seller()
    await start_edit(user)
    await user.send(GOOD)
    await user.wait_for_message(contains="Assim o cliente vai receber")
    await user.press("✖️ Cancelar")
    await user.wait_for_message(contains="cancelei")
    assert (await stored(bot, user, TemplateKind.BEFORE_DUE))[1] is True
    # The old preview's Salvar no longer has a draft behind it.
    preview = next(m for m in reversed(user.bot_messages) if "✅ Salvar" in m.buttons)
    await user.press("✅ Salvar", message=preview)
    gone = await user.wait_for_message(contains="rascunho não existe mais")
    assert "(padrão)" in gone.text
    assert (await stored(bot, user, TemplateKind.BEFORE_DUE))[1] is True
    await user.send("Oi {nome}")  # no longer in the flow
    await user.wait_for_message(contains="Não entendi")


async def test_markup_and_emoji_in_a_template_are_shown_escaped_and_saved_verbatim(bot):
    user = await bot.seller()
    text = "Oi <b>{nome}</b> 😀 & até {vencimento} <i>"
    await start_edit(user, "✉️ Mensagem avulsa")
    await user.send(text)
    preview = await user.wait_for_message(contains="Assim o cliente vai receber")
    assert "Oi <b>Maria Silva</b> 😀 & até" in preview.text
    assert "&lt;b&gt;Maria Silva&lt;/b&gt;" in preview.html
    await user.press("✅ Salvar")
    saved = await user.wait_for_message(contains="Mensagem salva")
    assert text in saved.text
    assert await stored(bot, user, TemplateKind.CUSTOM) == (text, False)


async def test_policy_change_days(bot):
    user = await bot.seller()
    await user.press("💬 Mensagens")
    await user.wait_for_message(contains="Mensagens")
    await user.press("⏰ Régua de lembretes")
    policy = await user.wait_for_message(contains="Régua de lembretes")
    assert "3 dias antes — Antes do vencimento" in policy.text
    assert "no dia — No dia do vencimento" in policy.text
    assert "1 dia depois — Em atraso" in policy.text
    assert "das 08:00 às 20:00" in policy.text

    await user.press("📆 Mudar dias")
    await user.wait_for_message(contains="Em quais dias")
    await user.send("amanhã, 2")
    error = await user.wait_for_message(contains="Não entendi “amanhã”")
    assert "Exemplo: -3, 0, 1, 3" in error.text
    await user.send("40 antes")
    await user.wait_for_message(contains="até 30 dias")
    await user.send("5 antes, no dia, 2 depois")
    saved = await user.wait_for_message(contains="Régua salva")
    assert "5 dias antes — Antes do vencimento" in saved.text
    assert "2 dias depois — Em atraso" in saved.text
    account = await bot.services.account_for(user.id)
    assert account.reminder_policy.offsets == (-5, 0, 2)


async def test_policy_change_window(bot):
    user = await bot.seller()
    await user.press("💬 Mensagens")
    await user.wait_for_message(contains="Mensagens")
    await user.press("⏰ Régua de lembretes")
    await user.wait_for_message(contains="Régua de lembretes")
    await user.press("🕗 Mudar horário")
    await user.wait_for_message(contains="Em que horário")
    await user.send("de manhã")
    await user.wait_for_message(contains="Não entendi o horário")
    await user.send("8 às 25")
    await user.wait_for_message(contains="25:00 não é um horário válido")
    await user.send("20 às 8")
    await user.wait_for_message(contains="começar antes de terminar")
    await user.send("9h às 18h30")
    saved = await user.wait_for_message(contains="Régua salva")
    assert "das 09:00 às 18:30" in saved.text
    account = await bot.services.account_for(user.id)
    assert account.reminder_policy.window_start == time(9, 0)
    assert account.reminder_policy.window_end == time(18, 30)
    assert account.reminder_policy.offsets == (-3, 0, 1, 3)  # the days were left alone


async def test_policy_off_and_a_kind_the_policy_no_longer_uses(bot):
    user = await bot.seller()
    await user.press("💬 Mensagens")
    await user.wait_for_message(contains="Mensagens")
    await user.press("⏰ Régua de lembretes")
    await user.wait_for_message(contains="Régua de lembretes")
    await user.press("📆 Mudar dias")
    await user.wait_for_message(contains="Em quais dias")
    await bot.restart()  # the question survives a redeploy too
    await user.send("nenhum")
    off = await user.wait_for_message(contains="Régua salva")
    assert "lembretes automáticos desligados" in off.text
    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="Toque em um para ver")
    await user.press("📅 No dia do vencimento")
    view = await user.wait_for_message(contains="Texto atual")
    assert "A sua régua não usa esta mensagem agora" in view.text


async def test_a_very_long_text_is_shown_by_its_beginning(bot):
    user = await bot.seller()
    account = await bot.services.account_for(user.id)
    long_text = "{nome} " + "😀 Lembrete importante. " * 150
    await templates.save_template(
        bot.uow_factory, bot.clock, account.id, TemplateKind.OVERDUE, long_text
    )
    view = await open_kind(user, "⚠️ Em atraso")
    assert "Em atraso (personalizado)" in view.text
    assert view.text.count("…") >= 2  # the text and its preview, both cut
    await user.press("✏️ Editar")
    prompt = await user.wait_for_message(contains="Novo texto")
    assert "{nome} 😀 Lembrete importante." in prompt.text
