"""parse_csv / export_csv: the spreadsheets Brazilian sellers really have, and the way back."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmgr.core.clients import Client
from clientmgr.core.csvio import (
    EXPORT_HEADER,
    MAX_NAME_LENGTH,
    MAX_NOTES_LENGTH,
    ClientDraft,
    RowError,
    export_csv,
    parse_csv,
)
from clientmgr.core.cycles import BillingCycle, CycleUnit
from clientmgr.errors import InvalidCsvError, InvalidInputError

TODAY = date(2026, 3, 4)
HEADER = "nome;telefone;plano;valor;vencimento;ciclo;observacoes"


def parse(text: str, encoding: str = "utf-8", **kw):
    return parse_csv(text.encode(encoding), TODAY, **kw)


def only(parsed) -> ClientDraft:
    assert parsed.errors == ()
    assert len(parsed.drafts) == 1
    return parsed.drafts[0]


def errors_by_line(parsed) -> dict[int, str]:
    return {error.line: error.reason for error in parsed.errors}


# --- shapes: separators, encodings, headers -------------------------------------------------


def test_semicolon_utf8_row_is_fully_parsed() -> None:
    parsed = parse(
        f"{HEADER}\nJoão Silva;(11) 98888-7777;Premium;35,90;10/12/2026;trimestral;paga no pix\n"
    )
    assert only(parsed) == ClientDraft(
        line=2,
        name="João Silva",
        phone="+5511988887777",
        price=Decimal("35.90"),
        due_date=date(2026, 12, 10),
        plan="Premium",
        cycle=BillingCycle.monthly(3),
        notes="paga no pix",
    )
    assert parsed.delimiter == ";"
    assert parsed.encoding == "utf-8"
    assert parsed.total == 1


def test_comma_separated_with_quoted_decimal_comma() -> None:
    parsed = parse('nome,telefone,valor,vencimento\nMaria,11988887777,"35,90",10/12/2026\n')
    draft = only(parsed)
    assert parsed.delimiter == ","
    assert draft.price == Decimal("35.90")
    assert draft.phone == "+5511988887777"


def test_comma_separated_with_unquoted_decimal_comma_is_explained() -> None:
    parsed = parse("nome,telefone,valor,vencimento\nMaria,11988887777,35,90,10/12/2026\n")
    assert parsed.drafts == ()
    assert "separador" in errors_by_line(parsed)[2]


def test_tab_separated() -> None:
    parsed = parse("nome\ttelefone\tvalor\tvencimento\nMaria\t11988887777\t35,90\t10/12/2026\n")
    assert parsed.delimiter == "\t"
    assert only(parsed).name == "Maria"


def test_utf8_bom_does_not_leak_into_the_first_header() -> None:
    data = (
        codecs.BOM_UTF8
        + "Nome;Telefone;Valor;Vencimento\nJoão;11988887777;10;10/12/2026\n".encode()
    )
    draft = only(parse_csv(data, TODAY))
    assert draft.name == "João"


def test_windows_1252_from_excel_keeps_accents() -> None:
    text = (
        "Nome;Telefone;Preço;Vencimento;Observações\r\n"
        "João Conceição;11988887777;10;10/12/2026;não cobrar\r\n"
    )
    parsed = parse(text, "cp1252")
    draft = only(parsed)
    assert parsed.encoding == "cp1252"
    assert draft.name == "João Conceição"
    assert draft.notes == "não cobrar"


def test_utf16_unicode_text_from_excel() -> None:
    text = "Nome\tTelefone\tValor\tVencimento\r\nJoão\t11988887777\t10\t10/12/2026\r\n"
    parsed = parse_csv(text.encode("utf-16"), TODAY)
    assert parsed.encoding == "utf-16"
    assert only(parsed).name == "João"


def test_english_headers() -> None:
    parsed = parse(
        "name,phone,plan,price,due_date,cycle,notes\n"
        "Mary,+1 650 253 0000,Gold,35.90,2026-12-10,monthly,vip\n"
    )
    draft = only(parsed)
    assert draft.phone == "+16502530000"
    assert draft.price == Decimal("35.90")
    assert draft.due_date == date(2026, 12, 10)
    assert draft.plan == "Gold"
    assert draft.notes == "vip"


@pytest.mark.parametrize(
    "header",
    [
        "NOME;CELULAR;PREÇO;DATA DE VENCIMENTO;PERIODICIDADE;OBS",
        "Cliente;WhatsApp;Mensalidade;Vencimento;Ciclo;Observações:",
        "  nome ;  fone ; Valor (R$) ; due date ; cycle ; notas ",
        "Nome do cliente;Tel;valor_mensal;Data_Vencimento;Frequência;Anotações",
    ],
)
def test_header_synonyms_case_and_accents(header: str) -> None:
    parsed = parse(f"{header}\nMaria;11988887777;35,90;10/12/2026;anual;oi\n")
    draft = only(parsed)
    assert draft.cycle == BillingCycle.yearly()
    assert draft.notes == "oi"
    assert parsed.columns == {"name", "phone", "price", "due_date", "cycle", "notes"}


def test_whatsapp_column_beats_landline_column() -> None:
    parsed = parse(
        "nome;telefone;whatsapp;valor;vencimento\nMaria;(11) 3333-4444;11988887777;10;5\n"
    )
    assert only(parsed).phone == "+5511988887777"
    assert parsed.ignored_columns == ("telefone",)


def test_unknown_columns_are_ignored_and_reported() -> None:
    parsed = parse(
        "nome;email;telefone;valor;vencimento;endereço\nMaria;m@x.com;11988887777;10;5;Rua A\n"
    )
    assert only(parsed).name == "Maria"
    assert parsed.ignored_columns == ("email", "endereço")


def test_title_rows_above_the_header_are_skipped_and_lines_match_the_sheet() -> None:
    parsed = parse(
        "Meus clientes;;;\nAtualizado em 01/03;;;\nnome;telefone;valor;vencimento\n"
        "Maria;11988887777;10;5\nBia;123;10;5\n"
    )
    assert parsed.header_line == 3
    assert only_valid(parsed).line == 4
    assert set(errors_by_line(parsed)) == {5}


def only_valid(parsed) -> ClientDraft:
    assert len(parsed.drafts) == 1
    return parsed.drafts[0]


def test_optional_columns_default_when_absent() -> None:
    parsed = parse("nome;telefone;valor;vencimento\nMaria;11988887777;10;10/12/2026\n")
    draft = only(parsed)
    assert (draft.plan, draft.cycle, draft.notes) == ("", BillingCycle.monthly(), "")
    assert parsed.columns == {"name", "phone", "price", "due_date"}


def test_empty_optional_cells_default_too() -> None:
    draft = only(parse(f"{HEADER}\nMaria;11988887777;;10;10/12/2026;;\n"))
    assert (draft.plan, draft.cycle, draft.notes) == ("", BillingCycle.monthly(), "")


def test_dates_without_year_are_relative_to_the_given_today() -> None:
    parsed = parse(
        "nome;telefone;valor;vencimento\nA;11988887777;10;10/12\nB;11977776666;10;dia 3\n"
    )
    assert [d.due_date for d in parsed.drafts] == [date(2026, 12, 10), date(2026, 4, 3)]


def test_values_as_excel_saves_them_back() -> None:
    parsed = parse(
        "nome;telefone;valor;vencimento\nA;11988887777;35,9;10/12/2026\n"
        "B;11977776666;R$ 1.234,56;10/12/26\n"
    )
    assert [d.price for d in parsed.drafts] == [Decimal("35.90"), Decimal("1234.56")]
    assert parsed.drafts[1].due_date == date(2026, 12, 10)


# --- whole-file refusals --------------------------------------------------------------------


def test_missing_required_column_names_it_and_the_accepted_names() -> None:
    with pytest.raises(InvalidCsvError) as err:
        parse("nome;valor;vencimento\nMaria;10;5\n")
    reason = err.value.reason
    assert "telefone" in reason
    assert "celular" in reason
    assert "whatsapp" in reason
    assert "Falta a coluna" in reason
    assert "nome (aceito" not in reason


def test_several_missing_columns_are_all_named() -> None:
    with pytest.raises(InvalidCsvError) as err:
        parse("nome;telefone\nMaria;11988887777\n")
    assert "Faltam as colunas" in err.value.reason
    assert "valor (aceito" in err.value.reason
    assert "vencimento (aceito" in err.value.reason


def test_a_file_without_any_header_is_refused() -> None:
    with pytest.raises(InvalidCsvError) as err:
        parse("Maria;11988887777;10;5\n")
    assert "nome (aceito" in err.value.reason


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", codecs.BOM_UTF8, b";;;\n;;;\n"])
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidCsvError):
        parse_csv(data, TODAY)


def test_header_only_is_an_empty_result_not_an_error() -> None:
    parsed = parse(HEADER + "\r\n")
    assert (parsed.drafts, parsed.errors, parsed.total) == ((), (), 0)


def test_excel_workbook_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidCsvError) as err:
        parse_csv(b"PK\x03\x04" + b"\x00" * 100, TODAY)
    assert "CSV" in err.value.reason
    assert "Excel" in err.value.reason


def test_file_over_the_size_limit_is_refused() -> None:
    data = (HEADER + "\n" + "Maria;11988887777;;10;5;;\n" * 100).encode()
    with pytest.raises(InvalidCsvError):
        parse_csv(data, TODAY, max_bytes=1024)


def test_mostly_nul_bytes_is_not_text() -> None:
    with pytest.raises(InvalidCsvError):
        parse_csv(b"\x00" * 1000 + HEADER.encode(), TODAY)


def test_unclosed_quote_swallowing_a_huge_field_is_refused_with_its_line() -> None:
    text = HEADER + '\nMaria;11988887777;;10;5;;"' + "x" * 200_000 + "\n"
    with pytest.raises(InvalidCsvError) as err:
        parse(text)
    assert "linha 2" in err.value.reason


def test_csv_parse_errors_are_input_errors_for_the_bot() -> None:
    assert issubclass(InvalidCsvError, InvalidInputError)


# --- row errors -----------------------------------------------------------------------------


def test_broken_rows_are_reported_by_line_and_every_valid_row_is_kept() -> None:
    text = (
        f"{HEADER}\n"
        "Ana;11988887777;;10;5;;\n"  # 2 ok
        "Bia;98888-7777;;10;5;;\n"  # 3 phone without DDD
        "\n"  # 4 blank: skipped, but still a spreadsheet row
        "Caio;11977776666;;dez reais;5;;\n"  # 5 price
        "Duda;11966665555;;10;31/02/2026;;\n"  # 6 date
        ";11955554444;;10;5;;\n"  # 7 no name
        "Eva;11944443333;;10;5;quinzenalmente;\n"  # 8 cycle
        "Fê;11933332222;;10;5;;\n"  # 9 ok
    )
    parsed = parse(text)
    assert [d.name for d in parsed.drafts] == ["Ana", "Fê"]
    assert [d.line for d in parsed.drafts] == [2, 9]
    errors = errors_by_line(parsed)
    assert set(errors) == {3, 5, 6, 7, 8}
    assert "DDD" in errors[3]
    assert "letras" in errors[5]
    assert "Fevereiro não tem dia 31" in errors[6]
    assert "nome" in errors[7]
    assert "ciclo" in errors[8].lower()
    assert parsed.total == 7
    assert str(parsed.errors[0]).startswith('linha 3: Telefone "98888-7777": Faltou o DDD')
    assert parsed.errors[0].raw[:2] == ("Bia", "98888-7777")


def test_every_problem_of_a_row_is_listed_at_once() -> None:
    parsed = parse(f"{HEADER}\nMaria;123;;abc;;;\n")
    reason = errors_by_line(parsed)[2]
    assert "elefone" in reason
    assert "alor" in reason
    assert "vencimento" in reason


def test_missing_nine_suggests_the_fixed_number() -> None:
    reason = errors_by_line(parse(f"{HEADER}\nMaria;(11) 8777-6666;;10;5;;\n"))[2]
    assert "Faltou o 9" in reason
    assert "(11) 98777-6666" in reason


def test_blank_rows_are_skipped_silently() -> None:
    parsed = parse(f"{HEADER}\n\n;;;;;;\n  ;  ; ;;;;\nMaria;11988887777;;10;5;;\n\n")
    assert only(parsed).line == 5
    assert parsed.total == 1


def test_short_rows_are_padded_with_empty_cells() -> None:
    parsed = parse(f"{HEADER}\nMaria;11988887777;Plano;10;5\nBia;11977776666\n")
    assert [d.name for d in parsed.drafts] == ["Maria"]
    assert "valor" in errors_by_line(parsed)[3]


def test_extra_empty_cells_are_ignored() -> None:
    assert only(parse(f"{HEADER}\nMaria;11988887777;;10;5;;;;;;\n")).name == "Maria"


def test_duplicate_phone_in_one_file_keeps_the_first_and_names_both_lines() -> None:
    parsed = parse(
        f"{HEADER}\nMaria;(11) 98888-7777;;10;5;;\nBia;11977776666;;10;5;;\n"
        "Maria 2;+55 11 9 8888-7777;;20;5;;\n"
    )
    assert [d.name for d in parsed.drafts] == ["Maria", "Bia"]
    reason = errors_by_line(parsed)[4]
    assert "linha 2" in reason
    assert "repetido" in reason


def test_huge_fields_are_errors_without_echoing_them() -> None:
    big = "x" * 10_000
    text = (
        f"{HEADER}\n"
        f"{big};11988887777;;10;5;;\n"
        f"Bia;{big};;10;5;;\n"
        f"Caio;11977776666;{big};10;5;;\n"
        f"Duda;11966665555;;{big};5;;\n"
        f"Eva;11955554444;;10;{big};;\n"
        f"Fê;11944443333;;10;5;{big};\n"
        f"Gil;11933332222;;10;5;;{big}\n"
        f"Hugo;11922221111;;10;5;;{'n' * MAX_NOTES_LENGTH}\n"
        f"{'N' * MAX_NAME_LENGTH};11911110000;;10;5;;\n"
    )
    parsed = parse(text)
    assert set(errors_by_line(parsed)) == {2, 3, 4, 5, 6, 7, 8}
    assert [d.line for d in parsed.drafts] == [9, 10]
    for error in parsed.errors:
        assert len(error.reason) < 400
        assert all(len(cell) <= 101 for cell in error.raw)


def test_nul_and_control_characters_are_removed() -> None:
    data = f"{HEADER}\nMa\x00ria\x07;1198888\x007777;;10;5;;ok\x00\n".encode()
    draft = only(parse_csv(data, TODAY))
    assert draft.name == "Maria"
    assert draft.phone == "+5511988887777"
    assert draft.notes == "ok"


def test_whitespace_is_tidied_but_notes_keep_their_lines() -> None:
    data = f'{HEADER}\n  Maria\u00a0  da   Silva ;11988887777; Ouro ;10;5;;" linha 1\r\nlinha 2 "\n'
    draft = only(parse(data))
    assert draft.name == "Maria da Silva"
    assert draft.plan == "Ouro"
    assert draft.notes == "linha 1\nlinha 2"


def test_apostrophe_protected_cells_are_unescaped() -> None:
    draft = only(parse(f"{HEADER}\n'=Maria;'+55 11 98888-7777;;10;5;;'-vip\n"))
    assert (draft.name, draft.phone, draft.notes) == ("=Maria", "+5511988887777", "-vip")


def test_plain_apostrophes_are_kept() -> None:
    assert only(parse(f"{HEADER}\n'Maria';11988887777;;10;5;;\n")).name == "'Maria'"


# --- export ---------------------------------------------------------------------------------

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def client(**kw) -> Client:
    values = {
        "account_id": 1,
        "name": "João",
        "phone": "+5511988887777",
        "price": Decimal("35.90"),
        "due_date": date(2026, 12, 10),
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Client(**(values | kw))


def test_export_is_excel_ptbr_friendly() -> None:
    data = export_csv([client(plan="Premium", cycle=BillingCycle.monthly(3), notes="pix")])
    assert data.startswith(codecs.BOM_UTF8)
    text = data[3:].decode("utf-8")
    assert text == (
        "nome;telefone;plano;valor;vencimento;ciclo;observacoes\r\n"
        "João;(11) 98888-7777;Premium;35,90;10/12/2026;trimestral;pix\r\n"
    )


def test_export_of_nothing_is_a_header_that_imports_as_nothing() -> None:
    data = export_csv([])
    assert data[3:].decode() == ";".join(EXPORT_HEADER) + "\r\n"
    assert parse_csv(data, TODAY).total == 0


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "'quoted", "=", "'"]
)
def test_export_neutralises_formulas_and_reads_back_the_same(name: str) -> None:
    data = export_csv([client(name=name, notes=name, plan=name)])
    row = list(csv.reader(io.StringIO(data[3:].decode(), newline=""), delimiter=";"))[1]
    assert row[0] == row[2] == row[6] == "'" + name
    draft = only(parse_csv(data, TODAY))
    assert (draft.name, draft.plan, draft.notes) == (name, name, name)


def test_foreign_phone_is_exported_safely_and_reads_back() -> None:
    data = export_csv([client(phone="+16502530000")])
    assert b";'+1 650-253-0000;" in data
    assert only(parse_csv(data, TODAY)).phone == "+16502530000"


# --- round trip -----------------------------------------------------------------------------

_DDDS = [11, 21, 31, 41, 47, 51, 61, 71, 81, 85, 91, 92, 98]
_FOREIGN = ["+16502530000", "+447911123456", "+351912345678", "+5511933334444"]


def _clean_line(text: str) -> str:
    return " ".join(text.split())


def _clean_notes(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


_text_chars = st.characters(blacklist_categories=("Cc", "Cs"))
_names = st.text(_text_chars, min_size=1, max_size=MAX_NAME_LENGTH).map(_clean_line).filter(bool)
_plans = st.text(_text_chars, max_size=80).map(_clean_line)
_notes = st.text(st.one_of(_text_chars, st.sampled_from("\n\r\t;,\"'=")), max_size=300).map(
    _clean_notes
)
_phones = st.one_of(
    st.builds(
        lambda ddd, rest: f"+55{ddd}9{rest}",
        st.sampled_from(_DDDS),
        st.integers(60_000_000, 99_999_999),
    ),
    st.sampled_from(_FOREIGN),
)
_cycles = st.builds(BillingCycle, st.sampled_from(list(CycleUnit)), st.integers(1, 60))
_clients = st.builds(
    client,
    name=_names,
    phone=_phones,
    plan=_plans,
    price=st.decimals(Decimal(0), Decimal(1_000_000), places=2),
    due_date=st.dates(date(2000, 1, 1), date(2035, 12, 31)),
    cycle=_cycles,
    notes=_notes,
)


def _fields(c: Client | ClientDraft) -> tuple:
    return (c.name, c.phone, c.plan, c.price, c.due_date, c.cycle, c.notes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_clients, max_size=8, unique_by=lambda c: c.phone))
def test_export_then_import_gives_back_the_same_clients(clients: list[Client]) -> None:
    parsed = parse_csv(export_csv(clients), TODAY)
    assert parsed.errors == ()
    assert [_fields(d) for d in parsed.drafts] == [_fields(c) for c in clients]


def test_row_error_reads_like_the_bot_says_it() -> None:
    assert str(RowError(7, "Telefone sem DDD.")) == "linha 7: Telefone sem DDD."
