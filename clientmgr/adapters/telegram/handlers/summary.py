"""📊 Resumo (/resumo): the seller's numbers at a glance, plus where their subscription stands.

Every figure comes from ``services.summary.dashboard`` (aggregate queries in the seller's own
timezone), so it matches the Vencimentos screen to the cent. The month is named ("março")
because "este mês" on the 1st at 00:10 is ambiguous to someone reading it late at night.
"""

from __future__ import annotations

from babel.dates import format_date as babel_format_date
from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, keyboard, reply, status_text
from clientmgr.core.accounts import Account
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.services import summary
from clientmgr.services.summary import Dashboard

__all__ = ["register", "render_summary", "show_summary"]


def render_summary(board: Dashboard, status: str) -> Raw:
    """The screen's HTML; ``status`` is the (already safe) account status line."""
    text = t(
        "summary.text",
        today=format_date(board.today),
        status=Raw(status),
        active=board.active,
        overdue=board.overdue,
        overdue_total=format_brl(board.overdue_total),
        paused=board.paused,
        month=babel_format_date(board.today, "MMMM", locale="pt_BR"),
        received=format_brl(board.received_this_month),
        expected=board.expected_count,
        expected_total=format_brl(board.expected_total),
    )
    if board.active == 0 and board.paused == 0:
        return Raw(f"{text}\n\n{t('summary.no_clients')}")
    return text


async def show_summary(update: Update, context: ClientmgrContext, account: Account) -> int:
    """The "📊 Resumo" button and /resumo."""
    services = context.services
    board = await summary.dashboard(services.uow_factory, services.clock, account.id)  # type: ignore[arg-type]
    text = render_summary(board, status_text(account, services.clock.now()))
    rows = [
        [(t("summary.dues"), "due:show"), (t("summary.clients"), "cl:list:all:0")],
        [(t("summary.refresh"), "sum:show"), (t("common.menu"), "m:home")],
    ]
    await reply(update, text, keyboard(context, rows))
    return END


def register(registry: BotRegistry) -> None:
    registry.button("sum:show", show_summary)
    registry.command("resumo", show_summary)
