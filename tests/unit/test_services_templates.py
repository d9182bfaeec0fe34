"""Templates and schedule: defaults, save-time refusal with nothing saved, previews with PIX."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from clientmgr.core.accounts import Account
from clientmgr.core.pix import parse_brcode
from clientmgr.core.reminders import DEFAULT_OFFSETS
from clientmgr.core.rendering import DEFAULT_TEMPLATES
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import AccountNotFoundError, InvalidInputError, InvalidTemplateError
from clientmgr.services import accounts, templates

KIND = TemplateKind.BEFORE_DUE


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return acc


@pytest.fixture
async def pix_account(uow_factory, clock, account):
    return await accounts.update_profile(
        uow_factory,
        clock,
        account.id,
        business_name="Ana Fitness",
        pix_key="ana@example.com",
        pix_name="Ana Souza",
        pix_city="São Paulo",
    )


@pytest.mark.parametrize("kind", list(TemplateKind))
async def test_every_kind_starts_on_the_default(uow_factory, account, kind):
    assert await templates.get_template_text(uow_factory, account.id, kind) == (
        DEFAULT_TEMPLATES[kind],
        True,
    )


async def test_save_then_read_back_trimmed(uow_factory, clock, account):
    saved = await templates.save_template(
        uow_factory, clock, account.id, KIND, "\n  Oi {Nome}, vence {vencimento}!  \n"
    )
    assert saved.text == "Oi {Nome}, vence {vencimento}!"
    assert saved.updated_at == clock.now()
    text, is_default = await templates.get_template_text(uow_factory, account.id, KIND)
    assert (text, is_default) == ("Oi {Nome}, vence {vencimento}!", False)
    other_kind = await templates.get_template_text(uow_factory, account.id, TemplateKind.OVERDUE)
    assert other_kind[1] is True


@pytest.mark.parametrize("bad", ["Oi {cliente}", "Oi {nome", "{{nome}}", "   ", "Oi {nome:>9}"])
async def test_bad_text_is_refused_and_the_old_text_stays(uow_factory, clock, account, bad):
    await templates.save_template(uow_factory, clock, account.id, KIND, "Oi {nome}")
    with pytest.raises(InvalidTemplateError) as err:
        await templates.save_template(uow_factory, clock, account.id, KIND, bad)
    assert "Variáveis válidas" in err.value.reason or "vazia" in err.value.reason
    assert await templates.get_template_text(uow_factory, account.id, KIND) == ("Oi {nome}", False)
    async with uow_factory() as uow:
        saves = [e for e in await uow.audit.list(account.id) if e.action == "template.saved"]
    assert len(saves) == 1


async def test_bad_text_on_a_fresh_account_leaves_the_default(uow_factory, clock, account):
    with pytest.raises(InvalidTemplateError, match="cliente"):
        await templates.save_template(uow_factory, clock, account.id, KIND, "Oi {cliente}")
    assert (await templates.get_template_text(uow_factory, account.id, KIND))[1] is True


async def test_texts_are_per_account(uow_factory, clock, account):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await templates.save_template(uow_factory, clock, other.id, KIND, "Oi {nome}, da Bia")
    assert (await templates.get_template_text(uow_factory, account.id, KIND))[1] is True


async def test_saving_for_an_unknown_account(uow_factory, clock):
    with pytest.raises(AccountNotFoundError):
        await templates.save_template(uow_factory, clock, 999, KIND, "Oi {nome}")


async def test_restore_default(uow_factory, clock, account):
    await templates.save_template(uow_factory, clock, account.id, KIND, "Oi {nome}")
    restored = await templates.restore_default(uow_factory, clock, account.id, KIND)
    assert restored == DEFAULT_TEMPLATES[KIND]
    assert await templates.get_template_text(uow_factory, account.id, KIND) == (restored, True)
    # restoring what is already the default is fine
    assert await templates.restore_default(uow_factory, clock, account.id, KIND) == restored
    with pytest.raises(AccountNotFoundError):
        await templates.restore_default(uow_factory, clock, 999, KIND)


async def test_preview_uses_the_accounts_data_and_a_real_pix_code(uow_factory, clock, pix_account):
    text = "{nome} | {valor} | {vencimento} | {pix} | {empresa} | {pix_copia_e_cola}"
    shown = await templates.preview_template(
        uow_factory, clock, pix_account.id, text, TemplateKind.OVERDUE
    )
    name, value, due, key, business, code = shown.split(" | ")
    assert (name, value, due, key, business) == (
        "Maria Silva",
        "R$ 35,90",
        "01/03/2026",  # three days before the seller's today, as an overdue reminder reads
        "ana@example.com",
        "Ana Fitness",
    )
    charge = parse_brcode(code)
    assert charge.key == "ana@example.com"
    assert charge.amount == Decimal("35.90")
    assert charge.name == "Ana Souza"
    assert charge.city == "Sao Paulo"


async def test_preview_without_pix_data_shows_placeholders(uow_factory, clock, account):
    shown = await templates.preview_template(
        uow_factory, clock, account.id, "{empresa}: {pix} / {pix_copia_e_cola}"
    )
    assert shown == "Ana: (cadastre sua chave PIX) / (aqui vai o código PIX copia e cola)"


async def test_preview_with_a_key_but_no_receiver_has_no_code(uow_factory, clock, account):
    await accounts.update_profile(uow_factory, clock, account.id, pix_key="ana@example.com")
    shown = await templates.preview_template(uow_factory, clock, account.id, "{pix_copia_e_cola}")
    assert shown == "(aqui vai o código PIX copia e cola)"


async def test_preview_refuses_a_broken_text(uow_factory, clock, account):
    with pytest.raises(InvalidTemplateError):
        await templates.preview_template(uow_factory, clock, account.id, "Oi {nom}")


def test_pix_code_for_free_plans_leaves_the_amount_open(clock):
    account = Account.new(
        1, "Ana", clock.now(), pix_key="+5511988887777", pix_name="Ana", pix_city="Rio"
    )
    code = templates.pix_code_for(account, Decimal("0.00"))
    assert code is not None
    assert parse_brcode(code).amount is None
    assert templates.pix_code_for(account, None) == code


def test_pix_code_for_a_key_that_no_longer_validates_is_none(clock):
    broken = Account.new(1, "Ana", clock.now(), pix_key="???", pix_name="A", pix_city="B")
    assert templates.pix_code_for(broken, Decimal("1.00")) is None


async def test_update_policy(uow_factory, clock, account):
    updated = await templates.update_policy(
        uow_factory, clock, account.id, [2, -5, 0, 2], time(9, 30), time(18, 0)
    )
    assert updated.reminder_policy.offsets == (-5, 0, 2)
    assert (updated.reminder_policy.window_start, updated.reminder_policy.window_end) == (
        time(9, 30),
        time(18, 0),
    )
    stored = await accounts.get_account(uow_factory, account.id)
    assert stored.reminder_policy == updated.reminder_policy


@pytest.mark.parametrize(
    ("offsets", "start", "end"),
    [([-3, 0], time(20, 0), time(8, 0)), ([-31], time(8), time(20)), ([1.5], time(8), time(20))],
)
async def test_bad_policy_is_refused_and_nothing_changes(
    uow_factory, clock, account, offsets, start, end
):
    with pytest.raises(InvalidInputError):
        await templates.update_policy(uow_factory, clock, account.id, offsets, start, end)
    stored = await accounts.get_account(uow_factory, account.id)
    assert stored.reminder_policy.offsets == DEFAULT_OFFSETS
