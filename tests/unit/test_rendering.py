"""Templates: each variable in pt-BR, save-time errors that help, rendering without surprises."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle
from clientmgr.core.rendering import (
    DEFAULT_TEMPLATES,
    MAX_TEMPLATE_LENGTH,
    VARIABLES,
    RenderContext,
    find_problems,
    missing_values,
    preview,
    render,
    sample_client,
    text_for,
    validate_template,
)
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import InvalidInputError, InvalidTemplateError

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def make_account(**extra: object) -> Account:
    defaults: dict[str, object] = {
        "pix_key": "joao@exemplo.com.br",
        "business_name": "JP Streaming",
    }
    defaults.update(extra)
    return Account.new(telegram_id=42, name="João Pereira", now=NOW, **defaults)


def make_client(**extra: object) -> Client:
    fields: dict[str, object] = {
        "account_id": 1,
        "name": "Maria Silva",
        "phone": "+5511988887777",
        "price": Decimal("35.90"),
        "due_date": date(2026, 12, 10),
        "created_at": NOW,
        "updated_at": NOW,
        "plan": "Plano Mensal",
    }
    fields.update(extra)
    return Client(**fields)  # type: ignore[arg-type]


def ctx_for(client: Client | None = None, today: date = TODAY, **account: object) -> RenderContext:
    return RenderContext.for_client(
        client or make_client(), make_account(**account), today, pix_code="000201BRCODE6304ABCD"
    )


def reason_of(text: str) -> str:
    with pytest.raises(InvalidTemplateError) as info:
        validate_template(text)
    return info.value.reason


# --- every variable, pt-BR ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("nome", "Maria Silva"),
        ("plano", "Plano Mensal"),
        ("valor", "R$ 35,90"),
        ("vencimento", "10/12/2026"),
        ("dias", "3"),
        ("pix", "joao@exemplo.com.br"),
        ("pix_copia_e_cola", "000201BRCODE6304ABCD"),
        ("empresa", "JP Streaming"),
    ],
)
def test_each_variable_renders_in_pt_br(variable: str, expected: str) -> None:
    assert render(f"<{{{variable}}}>", ctx_for()) == f"<{expected}>"


def test_variables_table_covers_exactly_the_renderable_names() -> None:
    assert set(VARIABLES) == set(ctx_for().values())
    assert all(description.strip() for description in VARIABLES.values())


def test_valor_uses_thousands_dot_and_two_decimals() -> None:
    client = make_client(price=Decimal("1234.5"))
    assert render("{valor}", ctx_for(client)) == "R$ 1.234,50"


def test_all_variables_in_one_message() -> None:
    text = "{nome}|{plano}|{valor}|{vencimento}|{dias}|{pix}|{pix_copia_e_cola}|{empresa}"
    assert render(text, ctx_for()) == (
        "Maria Silva|Plano Mensal|R$ 35,90|10/12/2026|3|joao@exemplo.com.br|"
        "000201BRCODE6304ABCD|JP Streaming"
    )


@pytest.mark.parametrize(
    ("today", "days", "signed"),
    [
        (date(2026, 12, 7), "3", 3),
        (date(2026, 12, 10), "0", 0),
        (date(2026, 12, 11), "1", -1),
        (date(2026, 12, 15), "5", -5),
    ],
)
def test_dias_is_an_absolute_count_on_both_sides_of_the_due_date(
    today: date, days: str, signed: int
) -> None:
    ctx = ctx_for(today=today)
    assert render("{dias}", ctx) == days
    assert ctx.days_until_due == signed


def test_variable_names_ignore_case_and_spaces() -> None:
    assert render("Olá {Nome}, { VALOR }", ctx_for()) == "Olá Maria Silva, R$ 35,90"


def test_plan_falls_back_to_cycle_label_and_business_to_seller_name() -> None:
    client = make_client(plan="", cycle=BillingCycle.monthly(3))
    ctx = ctx_for(client, business_name=None)
    assert render("seu {plano} - {empresa}", ctx) == "seu plano trimestral - João Pereira"


def test_missing_pix_renders_empty_and_is_reported() -> None:
    ctx = RenderContext.for_client(make_client(), make_account(pix_key=None), TODAY)
    text = "Chave PIX: {pix} {pix_copia_e_cola} {nome}"
    assert render(text, ctx) == "Chave PIX:   Maria Silva"
    assert missing_values(text, ctx) == ["pix", "pix_copia_e_cola"]
    assert missing_values("{nome}", ctx) == []


# --- values are data, not template ---------------------------------------------------------


def test_markup_and_emoji_in_client_name_come_out_verbatim() -> None:
    client = make_client(name="<b>_*[x]</b> 😊👍🏽 Zé", plan="Plano *VIP* {pix}")
    assert (
        render("Oi {nome}! {plano}", ctx_for(client))
        == "Oi <b>_*[x]</b> 😊👍🏽 Zé! Plano *VIP* {pix}"
    )


def test_braces_in_values_are_never_substituted_again() -> None:
    client = make_client(name="{empresa}")
    assert render("{nome}", ctx_for(client)) == "{empresa}"


def test_emoji_and_newlines_in_template_are_kept() -> None:
    text = "Olá {nome} 🎉\n\n*Vence* _hoje_: {vencimento} ✅"
    assert render(text, ctx_for()) == "Olá Maria Silva 🎉\n\n*Vence* _hoje_: 10/12/2026 ✅"


def test_ten_thousand_char_template_renders() -> None:
    chunk = "Olá {nome}, seu {plano} de {valor} vence em {vencimento}. "
    text = (chunk * (10_000 // len(chunk) + 1))[:10_000]
    text = text[: text.rfind("{")] + "fim"  # never cut a variable in half
    validate_template(text)
    out = render(text, ctx_for())
    assert "{" not in out
    assert out.count("Maria Silva") == text.count("{nome}")


def test_template_longer_than_the_limit_is_refused() -> None:
    reason = reason_of("a" * (MAX_TEMPLATE_LENGTH + 1))
    assert "longa demais" in reason


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_template_is_refused(text: str) -> None:
    assert "vazia" in reason_of(text)


# --- unknown variables ------------------------------------------------------------------


def test_unknown_variable_is_named_and_valid_ones_listed() -> None:
    reason = reason_of("Olá {cliente}, pague {valor} até {data_limite}")
    assert "{cliente}" in reason
    assert "{data_limite}" in reason
    for name in VARIABLES:
        assert "{" + name + "}" in reason
    assert "{valor}" not in reason.split("Variáveis válidas")[0]


def test_error_is_an_input_error_with_example() -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_template("{telefone}")
    assert info.value.example
    assert "Exemplo:" in str(info.value)


@pytest.mark.parametrize(
    ("typo", "suggested"),
    [
        ("vencimeto", "vencimento"),
        ("cliente", "nome"),
        ("preço", "valor"),
        ("pix copia e cola", "pix_copia_e_cola"),
    ],
)
def test_unknown_variable_gets_a_suggestion(typo: str, suggested: str) -> None:
    assert f"você quis dizer {{{suggested}}}" in reason_of("{" + typo + "}")


def test_every_problem_is_reported_in_reading_order() -> None:
    problems = find_problems("{x} ok {nome} {y} }")
    assert [p.position for p in problems] == [0, 14, 18]


# --- broken braces: each says where -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Olá {nome, tudo bem?", "aberta e não fechada"),
        ("Olá nome}, tudo bem?", "fechada sem ter sido aberta"),
        ("Olá {}, tudo bem?", "Chaves vazias"),
        ("Olá { }, tudo bem?", "Chaves vazias"),
        ("Olá {{ tudo bem?", "Chaves duplas"),
        ("Olá {{}} tudo bem?", "Chaves duplas"),
        ("Olá {{nome}}, tudo bem?", "uma chave só"),
        ("Olá {nome{plano}}, tudo bem?", "dentro da outra"),
        ("Olá {valor:>10}, tudo bem?", "Formatação"),
        ("Olá {nome!r}, tudo bem?", "Formatação"),
        ("Olá {nome.upper}, tudo bem?", "não é permitido"),
        ("Olá {nome[0]}, tudo bem?", "não é permitido"),
        ("Olá {0}, tudo bem?", "não é uma variável"),
        ("Olá {nome {plano}", "aberta e não fechada"),
    ],
)
def test_broken_braces_say_what_and_where(text: str, fragment: str) -> None:
    reason = reason_of(text)
    assert fragment in reason
    assert "perto de “" in reason
    assert "Variáveis válidas" in reason


def test_double_braces_point_to_single_braces() -> None:
    reason = reason_of("Olá {{nome}}")
    assert "{nome} em vez de {{nome}}" in reason


def test_format_spec_and_attribute_access_point_to_the_plain_variable() -> None:
    assert "use só {valor}" in reason_of("{valor:>10}")
    assert "use só {nome}" in reason_of("{nome.__class__}")


def test_multi_line_template_names_the_line() -> None:
    assert "na linha 3" in reason_of("Olá {nome}\nTudo bem?\nPague {valor")


def test_long_garbage_field_is_shortened_in_the_message() -> None:
    reason = reason_of("{" + "x" * 500 + "}")
    assert "x" * 100 not in reason


def test_render_refuses_invalid_text_instead_of_sending_braces() -> None:
    with pytest.raises(InvalidTemplateError):
        render("Olá {nome", ctx_for())


def test_no_format_machinery_is_reachable() -> None:
    for text in ("{nome.__class__.__mro__}", "{valor.__init__.__globals__}", "{0.__dict__}"):
        with pytest.raises(InvalidTemplateError):
            render(text, ctx_for())


# --- defaults, text_for, preview -------------------------------------------------------


@pytest.mark.parametrize("kind", list(TemplateKind))
def test_every_kind_has_a_default_that_validates_and_renders(kind: TemplateKind) -> None:
    text = DEFAULT_TEMPLATES[kind]
    validate_template(text)
    out = render(text, ctx_for())
    assert "Maria Silva" in out
    assert "{" not in out
    assert "}" not in out
    assert len(out) < 400  # short: read on a phone


def test_reminder_defaults_mention_value_due_date_and_pix() -> None:
    for kind in (TemplateKind.BEFORE_DUE, TemplateKind.DUE_TODAY, TemplateKind.OVERDUE):
        text = DEFAULT_TEMPLATES[kind]
        for variable in ("{nome}", "{valor}", "{vencimento}", "{pix}"):
            assert variable in text, (kind, variable)


def test_text_for_prefers_the_sellers_text_and_falls_back_to_default() -> None:
    mine = Template(account_id=1, kind=TemplateKind.OVERDUE, text="Oi {nome}!", updated_at=NOW)
    blank = Template(account_id=1, kind=TemplateKind.OVERDUE, text="  ", updated_at=NOW)
    assert text_for(TemplateKind.OVERDUE, mine) == "Oi {nome}!"
    assert text_for(TemplateKind.OVERDUE, None) == DEFAULT_TEMPLATES[TemplateKind.OVERDUE]
    assert text_for(TemplateKind.OVERDUE, blank) == DEFAULT_TEMPLATES[TemplateKind.OVERDUE]


def test_text_for_refuses_a_template_of_another_kind() -> None:
    mine = Template(account_id=1, kind=TemplateKind.RECEIPT, text="Oi {nome}!", updated_at=NOW)
    with pytest.raises(ValueError, match="receipt"):
        text_for(TemplateKind.OVERDUE, mine)


def test_sample_client_is_maria_on_the_monthly_plan() -> None:
    client = sample_client(TODAY)
    assert (client.name, client.plan, client.price) == (
        "Maria Silva",
        "Plano Mensal",
        Decimal("35.90"),
    )
    assert client.cycle == BillingCycle.monthly()


@pytest.mark.parametrize(
    ("kind", "due"),
    [
        (TemplateKind.BEFORE_DUE, "10/12/2026"),
        (TemplateKind.DUE_TODAY, "07/12/2026"),
        (TemplateKind.OVERDUE, "04/12/2026"),
        (TemplateKind.RECEIPT, "07/01/2027"),
        (None, "10/12/2026"),
    ],
)
def test_preview_due_date_fits_the_kind(kind: TemplateKind | None, due: str) -> None:
    assert preview("{vencimento} {dias}", make_account(), TODAY, kind).startswith(due)


def test_preview_renders_the_sample_client_with_the_sellers_data() -> None:
    out = preview(DEFAULT_TEMPLATES[TemplateKind.BEFORE_DUE], make_account(), TODAY)
    assert "Maria Silva" in out
    assert "R$ 35,90" in out
    assert "joao@exemplo.com.br" in out
    assert "JP Streaming" in out


def test_preview_shows_placeholders_for_what_the_seller_has_not_set() -> None:
    out = preview("{pix} | {pix_copia_e_cola}", make_account(pix_key=None), TODAY)
    assert out == "(cadastre sua chave PIX) | (aqui vai o código PIX copia e cola)"


def test_preview_uses_a_given_pix_code() -> None:
    assert preview("{pix_copia_e_cola}", make_account(), TODAY, pix_code="0002X") == "0002X"


def test_preview_refuses_invalid_text() -> None:
    with pytest.raises(InvalidTemplateError):
        preview("{cliente}", make_account(), TODAY)


# --- properties ------------------------------------------------------------------------

_pieces = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["{", "}", "{{", "}}", ":", ".", "!", "[", "]", "0", " ", "\n"]),
    st.sampled_from(["{" + name + "}" for name in VARIABLES]),
    st.sampled_from(list(VARIABLES)),
)


@settings(max_examples=400)
@given(st.lists(_pieces, max_size=20).map("".join))
def test_validate_and_render_only_ever_raise_invalid_template(text: str) -> None:
    ctx = ctx_for()
    problems = find_problems(text)
    if problems:
        with pytest.raises(InvalidTemplateError, match=r"\S"):
            validate_template(text)
        with pytest.raises(InvalidTemplateError):
            render(text, ctx)
        return
    validate_template(text)
    out = render(text, ctx)
    # Values here hold no braces, so any brace left over would be an unsubstituted field.
    assert "{" not in out
    assert "}" not in out


@given(st.text())
def test_arbitrary_text_never_crashes_validation(text: str) -> None:
    with contextlib.suppress(InvalidTemplateError):
        validate_template(text)


@given(st.text(alphabet=st.characters(exclude_characters="{}"), min_size=1).filter(str.strip))
def test_text_without_braces_renders_unchanged(text: str) -> None:
    assert render(text, ctx_for()) == text


@given(
    name=st.text(min_size=1, max_size=60),
    plan=st.text(max_size=60),
)
def test_any_client_name_and_plan_render_verbatim(name: str, plan: str) -> None:
    client = make_client(name=name, plan=plan)
    ctx = ctx_for(client)
    assert render("{nome}", ctx) == name
    assert render("[{nome}]", ctx) == f"[{name}]"
    if plan.strip():
        assert render("{plano}", ctx) == plan.strip()
