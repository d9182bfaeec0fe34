"""What the bot says after checking saved clients' numbers on WhatsApp.

A client saved with a number that has no WhatsApp would only show up days later as a
reminder that failed; the seller is told right on the "saved" screen instead, with the fix.
The check itself is ``services.number_check`` (advisory: it never fails the save). When
WhatsApp could not be asked (not connected, sidecar down) the note stays calm: the
number is not wrong, it just was not checked.
"""

from __future__ import annotations

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.views import truncate
from clientmgr.core.phones import format_phone
from clientmgr.services import number_check
from clientmgr.services.number_check import NumberCheck

__all__ = [
    "MAX_LISTED",
    "MAX_LISTED_NAME",
    "SAVE_BUDGET",
    "check_book",
    "check_many",
    "check_one",
    "import_note",
]

SAVE_BUDGET = 5.0
"""Seconds the "saved" answer waits for WhatsApp at most; a slower answer is "not checked"."""
MAX_LISTED = 5
"""Clients without WhatsApp named in an import report; the rest are counted."""
MAX_LISTED_NAME = 40
"""Characters of each listed name, so the report stays inside one Telegram message."""


async def check_one(context: ClientmgrContext, account_id: int, client_id: int) -> Raw:
    """Check one just-saved client: the note for its confirmation ("" when all is well)."""
    services = context.services
    result = await number_check.verify_clients(
        services.uow_factory, services.whatsapp, account_id, [client_id], budget=SAVE_BUDGET
    )
    if result.not_on_whatsapp:
        return t("numbercheck.missing")
    if not result.reachable:
        return t("numbercheck.not_connected")
    return Raw("")


async def check_many(
    context: ClientmgrContext, account_id: int, client_ids: tuple[int, ...]
) -> NumberCheck:
    """Check an import's clients (the service caps how many and how long)."""
    services = context.services
    return await number_check.verify_clients(
        services.uow_factory, services.whatsapp, account_id, client_ids
    )


async def check_book(context: ClientmgrContext, account_id: int) -> Raw | None:
    """Right after the seller links WhatsApp: check the clients saved while it was not
    connected (numbers already known are not asked again). The note naming the ones
    without WhatsApp, or None when there is nothing to say."""
    async with context.services.uow_factory() as uow:
        clients = await uow.clients.list(account_id)
    unknown = tuple(c.id for c in clients if c.id is not None and c.wa_jid is None)
    if not unknown:
        return None
    result = await check_many(context, account_id, unknown)
    if not result.not_on_whatsapp:
        return None
    return Raw(t("numbercheck.after_connect") + "\n\n" + import_note(result))


def import_note(result: NumberCheck) -> Raw:
    """The import report's WhatsApp part: how many were checked, who has no WhatsApp."""
    if not result.reachable:
        parts = [t("numbercheck.import_not_connected")]
    elif result.checked == 1:
        parts = [t("numbercheck.import_checked_one")]
    else:
        parts = [t("numbercheck.import_checked", count=result.checked)]
    missing = result.not_on_whatsapp
    if missing:
        count = len(missing)
        lines = [
            t("numbercheck.import_missing_one")
            if count == 1
            else t("numbercheck.import_missing", count=count)
        ]
        lines += [
            t(
                "numbercheck.import_missing_item",
                name=truncate(c.name, MAX_LISTED_NAME),
                phone=format_phone(c.phone),
            )
            for c in missing[:MAX_LISTED]
        ]
        if count > MAX_LISTED:
            lines.append(t("csv.more", count=count - MAX_LISTED))
        lines.append(t("numbercheck.import_fix"))
        parts.append("\n".join(lines))
    if result.reachable and result.unchecked:
        parts.append(
            t(
                "numbercheck.import_over_cap",
                count=result.unchecked,
                max=number_check.MAX_CHECKED,
            )
        )
    return Raw("\n\n".join(parts))
