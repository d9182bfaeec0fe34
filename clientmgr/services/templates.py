"""The seller's message texts and reminder schedule: read, save, restore, preview.

Choices:

- A text is validated (``validate_template``) before anything is opened or written, so a
  refused text never leaves half a change behind and the seller's old text stays in use.
- Surrounding blank lines and spaces are dropped: pasting from another app often adds them,
  and a WhatsApp message that starts with an empty line looks broken.
- Expired accounts may still edit texts and the schedule: that is configuration, not
  sending or adding, and a seller who renews finds everything ready.
- Previews carry a real PIX copia e cola when the account has a key, receiver name and city,
  built for the sample client's price, so the seller sees exactly what clients will get.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from decimal import Decimal

from clientmgr.core.accounts import Account
from clientmgr.core.pix import PixCharge, build_brcode
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.rendering import (
    DEFAULT_TEMPLATES,
    preview,
    sample_client,
    text_for,
    validate_template,
)
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import InvalidInputError
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit, update_profile

__all__ = [
    "get_template_text",
    "pix_code_for",
    "preview_template",
    "restore_default",
    "save_template",
    "update_policy",
]


def pix_code_for(account: Account, amount: Decimal | None) -> str | None:
    """The account's PIX copia e cola for ``amount``, or None when the PIX data is incomplete.

    A zero amount (free plans exist) gives a code where the payer types the value. A key
    saved before it was validated must not stop a reminder: such a key gives no code, and
    the message still shows the key itself through ``{pix}``.
    """
    if not (account.pix_key and account.pix_name and account.pix_city):
        return None
    try:
        charge = PixCharge(
            key=account.pix_key,
            name=account.pix_name,
            city=account.pix_city,
            amount=amount if amount is not None and amount > 0 else None,
        )
    except InvalidInputError:
        return None
    return build_brcode(charge)


async def get_template_text(
    uow_factory: UnitOfWorkFactory, account_id: int, kind: TemplateKind
) -> tuple[str, bool]:
    """(text, is_default): the seller's own text for ``kind``, or the built-in one."""
    async with uow_factory() as uow:
        template = await uow.templates.get(account_id, kind)
    return text_for(kind, template), template is None or not template.text.strip()


async def save_template(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, kind: TemplateKind, text: str
) -> Template:
    """Save the seller's text for ``kind``; InvalidTemplateError (nothing saved) when broken."""
    text = text.strip()
    validate_template(text)
    template = Template(account_id=account_id, kind=kind, text=text, updated_at=clock.now())
    async with uow_factory() as uow:
        await uow.templates.save(template)
        await audit(uow, clock, account_id, "template.saved", "template", kind.value)
        await uow.commit()
    return template


async def restore_default(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, kind: TemplateKind
) -> str:
    """Forget the seller's text for ``kind``; returns the built-in text now in use."""
    async with uow_factory() as uow:
        await uow.accounts.get(account_id)  # AccountNotFoundError rather than a silent no-op
        await uow.templates.delete(account_id, kind)
        await audit(uow, clock, account_id, "template.restored", "template", kind.value)
        await uow.commit()
    return DEFAULT_TEMPLATES[kind]


async def preview_template(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: int,
    text: str,
    kind: TemplateKind | None = None,
) -> str:
    """``text`` as the sample client (Maria Silva) would get it from this account.

    ``kind`` places the sample due date where that kind of message is sent (3 days ahead,
    today, 3 days ago). Raises InvalidTemplateError for a broken text, like saving would.
    """
    validate_template(text.strip())
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
    today = account.local_now(clock.now()).date()
    pix_code = pix_code_for(account, sample_client(today, kind).price)
    return preview(text.strip(), account, today, kind, pix_code=pix_code)


async def update_policy(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: int,
    offsets: Iterable[int],
    window_start: time,
    window_end: time,
) -> Account:
    """Change when reminders go out; the policy's InvalidInputError says what is wrong."""
    policy = ReminderPolicy(
        offsets=tuple(offsets), window_start=window_start, window_end=window_end
    )
    return await update_profile(uow_factory, clock, account_id, reminder_policy=policy)
