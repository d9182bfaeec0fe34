"""📅 Vencimentos (/vencimentos): who is overdue, who pays today, who pays this week.

The screen answers the seller's morning question — "who do I chase today?" — so it lists
the three groups from ``services.summary.dues`` with their totals, and puts a one-tap
"💰 <name>" payment button (handled by the client card, ``cc:pay:<id>``) under the people
who owe now (overdue first, then today). Long books are capped so the message stays
inside Telegram's 4,096 characters and the keyboard stays usable on a phone; the screen
says how many were left out and where to find them.
"""

from __future__ import annotations

from datetime import date

from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, keyboard, reply
from clientmgr.adapters.telegram.views import truncate
from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.services import summary
from clientmgr.services.summary import DuesGroup, DuesOverview

__all__ = ["MAX_LINES", "MAX_PAY_BUTTONS", "register", "render_dues", "show_dues"]

MAX_LINES = 12
"""Clients listed per section; 3 x 12 short lines stay far below Telegram's limit."""
MAX_PAY_BUTTONS = 10
"""One-tap payment buttons (overdue, then today): more would bury the navigation."""
_NAME_IN_TEXT = 40
_NAME_ON_BUTTON = 28


def _count(n: int) -> Raw:
    return t("dues.count_one") if n == 1 else t("dues.count_many", count=n)


def _line(client: Client, today: date) -> Raw:
    name = truncate(client.name, _NAME_IN_TEXT)
    price = format_brl(client.price)
    days = (client.due_date - today).days
    if days < 0:
        ago = t("dues.ago_one") if days == -1 else t("dues.ago_many", days=-days)
        return t(
            "dues.line_overdue", name=name, price=price, date=format_date(client.due_date), ago=ago
        )
    if days == 0:
        return t("dues.line_today", name=name, price=price)
    when = t("dues.in_one") if days == 1 else t("dues.in_many", days=days)
    return t(
        "dues.line_upcoming", name=name, price=price, date=format_date(client.due_date), when=when
    )


def _section(header_key: str, group: DuesGroup, today: date) -> str:
    header = t(header_key, count=_count(group.count), total=format_brl(group.total))
    if not group.count:
        return f"{header}\n{t('dues.nobody')}"
    lines = [_line(c, today) for c in group.clients[:MAX_LINES]]
    if group.count > MAX_LINES:
        lines.append(t("dues.more_lines", count=group.count - MAX_LINES))
    return "\n".join([header, *lines])


def render_dues(overview: DuesOverview) -> tuple[Raw, list[Client]]:
    """The screen's HTML and the clients that get a payment button (in order)."""
    owing = [*overview.overdue.clients, *overview.due_today.clients]
    if not (owing or overview.upcoming.count):
        return t("dues.empty"), []
    today = overview.today
    parts = [
        t("dues.title", today=format_date(today)),
        _section("dues.overdue_header", overview.overdue, today),
        _section("dues.today_header", overview.due_today, today),
        _section("dues.upcoming_header", overview.upcoming, today),
    ]
    with_button = owing[:MAX_PAY_BUTTONS]
    if with_button:
        parts.append(t("dues.pay_hint"))
    if len(owing) > MAX_PAY_BUTTONS:
        parts.append(
            t("dues.more_buttons", shown=MAX_PAY_BUTTONS, more=len(owing) - MAX_PAY_BUTTONS)
        )
    return Raw("\n\n".join(parts)), with_button


async def show_dues(update: Update, context: ClientmgrContext, account: Account) -> int:
    """The "📅 Vencimentos" button and /vencimentos."""
    services = context.services
    overview = await summary.dues(services.uow_factory, services.clock, account.id)  # type: ignore[arg-type]
    text, with_button = render_dues(overview)
    icon = t("dues.pay_icon")
    # Button labels are plain text (not HTML): the name goes in as typed, only shortened.
    pay = [(f"{icon} {truncate(c.name, _NAME_ON_BUTTON)}", f"cc:pay:{c.id}") for c in with_button]
    rows = [pay[i : i + 2] for i in range(0, len(pay), 2)]
    if overview.overdue.count > MAX_PAY_BUTTONS:
        # Not every overdue client got a button: the filtered list has them all, paged.
        rows.append([(t("dues.all_overdue"), "cl:list:overdue:0")])
    rows.append([(t("dues.refresh"), "due:show"), (t("dues.clients"), "cl:list:all:0")])
    rows.append([(t("common.menu"), "m:home")])
    await reply(update, text, keyboard(context, rows))
    return END


def register(registry: BotRegistry) -> None:
    registry.button("due:show", show_dues)
    registry.command("vencimentos", show_dues)
