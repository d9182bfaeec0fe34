"""The client list: filters, pages and search, each client one button that opens its card.

Payloads: ``cl:list:<filter>:<page>`` (filters all | due_soon | overdue | paused),
``cl:search`` (starts the typed search, state ``cl.search``) and ``cl:found:<page>`` (pages of
the last search, whose words are kept in ``user_data`` because a payload has no room for
them). ``/clientes`` opens the list and leaves any input flow, like the menu button does.
"""

from __future__ import annotations

from datetime import date

from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, Keyboard, keyboard, reply
from clientmgr.adapters.telegram.views import client_label
from clientmgr.core.accounts import Account
from clientmgr.core.clients import ClientFilter
from clientmgr.errors import InvalidInputError
from clientmgr.services import clients
from clientmgr.services.clients import ClientPage

__all__ = ["FILTERS", "PER_PAGE", "SEARCH_STATE", "register"]

PER_PAGE = 8
SEARCH_STATE = "cl.search"
MAX_SEARCH = 60
FILTERS = (ClientFilter.ALL, ClientFilter.DUE_SOON, ClientFilter.OVERDUE, ClientFilter.PAUSED)
_SEARCH_KEY = "clients_search"  # the last search's words, so its pages can be turned


def _today(context: ClientmgrContext, account: Account) -> date:
    return account.local_now(context.services.clock.now()).date()


def _client_rows(result: ClientPage, today: date) -> list[list[tuple[str, str]]]:
    return [[(client_label(c, today), f"cc:card:{c.id}")] for c in result.clients]


def _paging_row(result: ClientPage, prefix: str) -> list[tuple[str, str]]:
    row = []
    if result.page > 0:
        row.append((t("clients.prev"), f"{prefix}:{result.page - 1}"))
    if result.page < result.pages - 1:
        row.append((t("clients.next"), f"{prefix}:{result.page + 1}"))
    return row


def _filter_rows(current: str) -> list[list[tuple[str, str]]]:
    """The other filters, two per row (the header already names the one shown)."""
    others = [(t(f"clients.filter_{f}"), f"cl:list:{f}:0") for f in FILTERS if f != current]
    return [others[i : i + 2] for i in range(0, len(others), 2)]


def _page_line(result: ClientPage) -> str:
    if result.pages <= 1:
        return ""
    return "\n" + t("clients.page", page=result.page + 1, pages=result.pages)


async def _show(
    update: Update, context: ClientmgrContext, account: Account, filter: str, page: int
) -> None:
    today = _today(context, account)
    result = await clients.list_clients(
        context.services.uow_factory,
        account.id,  # type: ignore[arg-type]
        today=today,
        filter=filter,
        page=page,
        per_page=PER_PAGE,
    )
    menu_row = [(t("common.menu"), "m:home")]
    if result.total == 0 and filter == ClientFilter.ALL:
        rows: Keyboard = [
            [(t("clients.new"), "nc:new"), (t("clients.import"), "csv:import")],
            menu_row,
        ]
        await reply(update, t("clients.empty"), keyboard(context, rows))
        return
    actions = [(t("clients.search"), "cl:search"), (t("clients.new"), "nc:new")]
    if result.total == 0:
        text = t(f"clients.empty_{filter}")
        rows = [*_filter_rows(filter), actions, menu_row]
    else:
        text = Raw(
            t(f"clients.title_{filter}", count=result.total)
            + _page_line(result)
            + "\n\n"
            + t("clients.legend")
        )
        paging = _paging_row(result, f"cl:list:{filter}")
        rows = [
            *_client_rows(result, today),
            *([paging] if paging else []),
            *_filter_rows(filter),
            actions,
            menu_row,
        ]
    await reply(update, text, keyboard(context, rows))


async def list_button(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cl:list:<filter>:<page>."""
    match = context.matches[0]  # type: ignore[index]
    await _show(update, context, account, match.group(1), int(match.group(2)))


async def list_command(update: Update, context: ClientmgrContext, account: Account) -> int:
    """/clientes: the whole list, first page; also leaves any flow being typed."""
    await _show(update, context, account, ClientFilter.ALL, 0)
    return END


async def ask_search(update: Update, context: ClientmgrContext, account: Account) -> str:
    """cl:search: ask for part of a name or phone."""
    rows = [[(t("common.back"), "cl:list:all:0"), (t("common.cancel"), "x:cancel")]]
    await reply(update, t("clients.search_ask"), keyboard(context, rows))
    return SEARCH_STATE


async def _show_found(
    update: Update, context: ClientmgrContext, account: Account, term: str, page: int
) -> bool:
    """One page of what ``term`` finds; False (and a hint) when it finds nobody."""
    today = _today(context, account)
    result = await clients.list_clients(
        context.services.uow_factory,
        account.id,  # type: ignore[arg-type]
        today=today,
        search=term,
        page=page,
        per_page=PER_PAGE,
    )
    back_row = [(t("common.back"), "cl:list:all:0"), (t("common.menu"), "m:home")]
    again_row = [(t("clients.search_again"), "cl:search"), (t("clients.new"), "nc:new")]
    if result.total == 0:
        rows: Keyboard = [again_row, back_row]
        await reply(update, t("clients.search_none", term=term), keyboard(context, rows))
        return False
    paging = _paging_row(result, "cl:found")
    rows = [*_client_rows(result, today), *([paging] if paging else []), again_row, back_row]
    text = Raw(t("clients.search_results", term=term, count=result.total) + _page_line(result))
    await reply(update, text, keyboard(context, rows))
    return True


async def got_search(update: Update, context: ClientmgrContext, account: Account) -> int | None:
    """The typed search: results end the flow; no results keep it, so typing again searches."""
    term = " ".join((update.effective_message.text or "").split())  # type: ignore[union-attr]
    if not term:
        raise InvalidInputError(t("clients.search_empty"), "Maria")
    if len(term) > MAX_SEARCH:
        raise InvalidInputError(t("clients.search_too_long", max=MAX_SEARCH), "Maria")
    context.user_data[_SEARCH_KEY] = term  # type: ignore[index]
    found = await _show_found(update, context, account, term, 0)
    return END if found else None


async def found_page(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cl:found:<page>: another page of the last search (the whole list if it was forgotten)."""
    page = int(context.matches[0].group(1))  # type: ignore[index]
    term = (context.user_data or {}).get(_SEARCH_KEY)
    if not isinstance(term, str) or not term:
        await _show(update, context, account, ClientFilter.ALL, 0)
        return
    await _show_found(update, context, account, term, page)


def register(registry: BotRegistry) -> None:
    registry.button(r"cl:list:(all|due_soon|overdue|paused):(\d{1,4})", list_button)
    registry.command_entry("clientes", list_command)
    registry.entry("cl:search", ask_search)
    registry.state(SEARCH_STATE, got_search)
    registry.button(r"cl:found:(\d{1,4})", found_page)
