"""Importar / Exportar: a seller sends a spreadsheet as a CSV file and takes it back out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clientmgr.core.csvio import parse_csv

HEADER = "nome;telefone;plano;valor;vencimento\r\n"
# What Excel pt-BR writes for "CSV (separado por ponto e vírgula)": Windows-1252, CRLF.
EXCEL_CSV = (
    HEADER
    + "José Conceição;(11) 98888-7777;Mensal;35,90;10/12\r\n"
    + "Márcia Ônibus;123;Trimestral;50;15/04\r\n"
    + "Çá Lúcia;11 97777-6666;Anual;1.200,00;31/03/2026\r\n"
).encode("cp1252")
TODAY = date(2026, 3, 4)  # the harness clock, in São Paulo


async def _clients(bot, user):
    account = await bot.services.account_for(user.id)
    async with bot.uow_factory() as uow:
        return {c.name: c for c in await uow.clients.list(account.id, archived=None)}


async def _open_import(user):
    await user.press("📥 Importar")
    return await user.wait_for_message(contains="Importar clientes")


async def test_import_explains_the_columns_with_an_example(bot):
    user = await bot.seller()
    asked = await _open_import(user)
    assert "nome;telefone;plano;valor;vencimento" in asked.text
    assert "Maria Silva;(11) 98888-7777;Mensal;35,90;10/12" in asked.text
    assert "✖️ Cancelar" in asked.buttons


async def test_import_excel_csv_in_windows_1252_with_a_bad_row(bot):
    user = await bot.seller()
    await _open_import(user)
    # Windows labels .csv files as Excel's; the name decides.
    await user.upload("clientes.csv", EXCEL_CSV, "application/vnd.ms-excel")
    summary = await user.wait_for_message(contains="✅")
    assert "✅ 2 novos, 0 atualizados" in summary.text
    assert "1 linha com problema" in summary.text
    assert 'linha 3: Telefone "123"' in summary.text
    assert "📥 Importar de novo" in summary.buttons
    assert "👥 Ver clientes" in summary.buttons
    stored = await _clients(bot, user)
    assert set(stored) == {"José Conceição", "Çá Lúcia"}
    assert stored["José Conceição"].price == Decimal("35.90")
    assert stored["José Conceição"].phone == "+5511988887777"
    assert stored["Çá Lúcia"].price == Decimal("1200.00")
    assert stored["Çá Lúcia"].due_date == date(2026, 3, 31)
    # The flow is over: typed text is not taken as a file any more.
    await user.send("oi")
    await user.wait_for_message(contains="Não entendi")


async def test_reupload_updates_without_duplicates(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.upload("clientes.csv", EXCEL_CSV, "text/csv")
    await user.wait_for_message(contains="✅ 2 novos")
    fixed = EXCEL_CSV.replace("35,90".encode("cp1252"), b"39,90").replace(
        b";123;", b";(21) 3333-4444;"
    )
    # Dropped in the chat without pressing Importar: imported all the same.
    await user.upload("clientes (1).csv", fixed, "text/csv")
    summary = await user.wait_for_message(contains="✅")
    assert "✅ 1 novo, 2 atualizados" in summary.text
    assert "problema" not in summary.text
    stored = await _clients(bot, user)
    assert len(stored) == 3
    assert stored["José Conceição"].price == Decimal("39.90")


async def test_an_xlsx_file_is_refused_with_the_excel_hint(bot):
    user = await bot.seller()
    await _open_import(user)
    xlsx = b"PK\x03\x04" + b"\x00" * 200
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await user.upload("clientes.xlsx", xlsx, mime)
    refused = await user.wait_for_message(contains="Salvar como")
    assert "Salve a planilha como CSV no Excel: Arquivo → Salvar como → CSV" in refused.text
    assert "clientes.xlsx" in refused.text
    # Still waiting for the file: the CSV is taken now.
    await user.upload("clientes.csv", EXCEL_CSV, "text/csv")
    await user.wait_for_message(contains="✅ 2 novos")


async def test_an_excel_file_renamed_to_csv_is_explained(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.upload("clientes.csv", b"PK\x03\x04" + b"\x00" * 200, "text/csv")
    refused = await user.wait_for_message(contains="Não consegui importar")
    assert "planilha do Excel" in refused.text
    assert "Maria Silva;(11) 98888-7777" in refused.text
    assert await _clients(bot, user) == {}


async def test_other_files_and_huge_files_are_refused(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.upload("recibo.pdf", b"%PDF-1.4 ...", "application/pdf")
    refused = await user.wait_for_message(contains="Não consigo ler")
    assert "recibo.pdf" in refused.text
    huge = HEADER.encode() + b"Ana;11988887777;Mensal;35;10/12\r\n" * 200_000
    await user.upload("enorme.csv", huge, "text/csv")
    too_big = await user.wait_for_message(contains="limite é 5 MB")
    assert "Divida a planilha" in too_big.text
    assert await _clients(bot, user) == {}


async def test_text_instead_of_a_file_asks_for_the_file_then_cancel(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.send("José;11988887777;35;10/12")
    asked = await user.wait_for_message(contains="Mande o arquivo .csv como documento")
    assert "(clipe 📎 → Arquivo)" in asked.text
    await user.press("✖️ Cancelar")
    await user.wait_for_message(contains="cancelei")
    await user.send("oi")
    await user.wait_for_message(contains="Não entendi")


async def test_missing_columns_are_explained_and_the_file_asked_again(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.upload("clientes.csv", b"nome;telefone\r\nAna;11988887777\r\n", "text/csv")
    unreadable = await user.wait_for_message(contains="Não consegui importar")
    assert "Faltam as colunas valor" in unreadable.text
    assert "vencimento (aceito" in unreadable.text
    assert "Maria Silva;(11) 98888-7777;Mensal;35,90;10/12" in unreadable.text
    await user.upload("clientes.csv", EXCEL_CSV, "text/csv")
    await user.wait_for_message(contains="✅ 2 novos")


async def test_an_empty_sheet_says_there_is_nobody_in_it(bot):
    user = await bot.seller()
    await _open_import(user)
    await user.upload("clientes.csv", HEADER.encode(), "text/csv")
    await user.wait_for_message(contains="não tem nenhum cliente")


async def test_many_bad_rows_are_listed_up_to_fifteen(bot):
    user = await bot.seller()
    rows = "".join(f"Cliente {n};{n};Mensal;35;10/12\r\n" for n in range(20))
    good = "Boa <b>_*[x]</b> 🎉;11988887777;Mensal;35;10/12\r\n"
    await _open_import(user)
    await user.upload("clientes.csv", (HEADER + good + rows).encode(), "text/csv")
    summary = await user.wait_for_message(contains="✅")
    assert "✅ 1 novo, 0 atualizados" in summary.text
    assert "20 linhas com problema" in summary.text
    assert summary.text.count("• linha ") == 15
    assert "... e mais 5" in summary.text
    assert "linha 3:" in summary.text
    assert "linha 17:" in summary.text
    assert "linha 18:" not in summary.text


async def test_restart_while_waiting_for_the_file(bot):
    user = await bot.seller()
    await _open_import(user)
    await bot.restart()
    await user.send("cadê?")
    await user.wait_for_message(contains="Mande o arquivo .csv como documento")
    await user.upload("clientes.csv", EXCEL_CSV, "text/csv")
    await user.wait_for_message(contains="✅ 2 novos")
    assert len(await _clients(bot, user)) == 2


async def test_export_downloads_a_csv_that_reimports_cleanly(bot):
    user = await bot.seller()
    weird = "<b>_*[x] 🎉;11 96666-5555;=SOMA(A1);10,00;05/04\r\n"
    await _open_import(user)
    await user.upload("clientes.csv", EXCEL_CSV, "text/csv")
    await user.wait_for_message(contains="✅ 2 novos")
    await user.upload("mais.csv", (HEADER + weird).encode("utf-8"), "text/csv")
    await user.wait_for_message(contains="✅ 1 novo")
    await user.send("/menu")
    await user.wait_for_message(contains="Menu principal")
    await user.press("📤 Exportar")
    sent = await user.wait_for_message(where=lambda m: m.document is not None)
    assert sent.document.file_name == "clientes-04-03-2026.csv"
    stored = await _clients(bot, user)
    assert f"{len(stored)} clientes" in sent.content
    assert "Excel" in sent.content
    assert "🏠 Menu" in sent.buttons
    data = await user.download(sent)
    parsed = parse_csv(data, TODAY)
    assert parsed.errors == ()
    assert {d.name for d in parsed.drafts} == set(stored)
    by_name = {d.name: d for d in parsed.drafts}
    assert by_name["<b>_*[x] 🎉"].plan == "=SOMA(A1)"  # kept, not run as a formula
    assert by_name["José Conceição"].price == Decimal("35.90")


async def test_export_with_no_clients_says_so(bot):
    user = await bot.seller()
    await user.press("📤 Exportar")
    empty = await user.wait_for_message(contains="ainda não tem clientes")
    assert "📥 Importar" in empty.buttons
