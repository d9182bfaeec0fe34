"""TemplateRepository contract: one text per (account, kind), replaced on save, deletable."""

from __future__ import annotations

from datetime import timedelta

from clientmgr.core.templates import TemplateKind
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_template, seed_accounts


async def test_absent_kind_is_none(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        assert await uow.templates.get(account_id, TemplateKind.OVERDUE) is None
        assert await uow.templates.list(account_id) == []


async def test_save_then_get_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    template = make_template(account_id, TemplateKind.RECEIPT, text="Recebemos {valor}. " * 600)
    async with uow_factory() as uow:
        await uow.templates.save(template)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.templates.get(account_id, TemplateKind.RECEIPT) == template


async def test_save_replaces_the_text_for_that_kind(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    newer = make_template(account_id, text="Nova versão", updated_at=NOW + timedelta(hours=1))
    async with uow_factory() as uow:
        await uow.templates.save(make_template(account_id, text="Primeira versão"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.templates.save(newer)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.templates.get(account_id, newer.kind) == newer
        assert await uow.templates.list(account_id) == [newer]


async def test_list_holds_only_the_accounts_templates_by_kind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        await uow.templates.save(make_template(mine, TemplateKind.OVERDUE))
        await uow.templates.save(make_template(mine, TemplateKind.BEFORE_DUE))
        await uow.templates.save(make_template(theirs, TemplateKind.CUSTOM))
        await uow.commit()
    async with uow_factory() as uow:
        kinds = [t.kind for t in await uow.templates.list(mine)]
        assert sorted(kinds) == [TemplateKind.BEFORE_DUE, TemplateKind.OVERDUE]
        assert await uow.templates.get(theirs, TemplateKind.OVERDUE) is None


async def test_delete_goes_back_to_default_and_absent_is_fine(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        await uow.templates.save(make_template(mine))
        await uow.templates.save(make_template(theirs))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.templates.delete(mine, TemplateKind.DUE_TODAY)
        await uow.templates.delete(mine, TemplateKind.CUSTOM)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.templates.get(mine, TemplateKind.DUE_TODAY) is None
        assert await uow.templates.get(theirs, TemplateKind.DUE_TODAY) is not None
