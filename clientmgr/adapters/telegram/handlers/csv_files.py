"""Importar / Exportar: the seller's client book in and out of the chat as a CSV spreadsheet.

Payloads: ``csv:import`` (explains the columns with an example, then waits for the file in
state ``csv.file``) and ``csv:export`` (sends ``clientes-<dd-mm-aaaa>.csv``). A CSV dropped
in the chat outside any flow is imported too: that is what a seller who sends a spreadsheet
wants, and ignoring the file would look like the bot is broken.

Choices:

- The file is judged before it is downloaded, on what Telegram tells us (size, name, MIME
  type), so a 40 MB video or an .xlsx gets an answer that says how to fix it (Excel: "Salvar
  como → CSV") instead of a decode error. A misnamed Excel file is still caught by
  ``csvio.decode_csv`` when read.
- Import and export go through ``services.importing`` only; the handler parses nothing.
- A file that cannot be read at all (``InvalidCsvError``: missing columns, empty...) keeps the
  seller in ``csv.file`` with the reason and the two-line example, so the corrected file can
  simply be sent again. Rows with problems do not block the rest: the summary lists the first
  ``MAX_SHOWN_PROBLEMS`` of them by spreadsheet line.
- After an import the written clients' numbers are checked on WhatsApp
  (``number_notes``): the summary says how many and names the first ones without it.
- Expired accounts are refused at the button (before they look for the file) and again by
  the use case; they may still export (their data is theirs).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from telegram import Document, Update
from telegram.ext import MessageHandler, filters

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import (
    END,
    BotRegistry,
    Keyboard,
    keyboard,
    reply,
    seller_handler,
)
from clientmgr.adapters.telegram.number_notes import check_many, import_note
from clientmgr.core.accounts import Account
from clientmgr.core.clients import ClientFilter
from clientmgr.errors import InvalidCsvError
from clientmgr.services import clients, guards, importing
from clientmgr.services.importing import ImportReport
from clientmgr.services.number_check import NumberCheck

__all__ = [
    "CSV_EXTENSIONS",
    "FILE_STATE",
    "MAX_REASON_CHARS",
    "MAX_SHOWN_PROBLEMS",
    "MAX_UPLOAD_BYTES",
    "PROBLEMS_BUDGET",
    "SPREADSHEET_EXTENSIONS",
    "export_filename",
    "register",
]

FILE_STATE = "csv.file"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""A client book of tens of thousands of rows is well under 5 MB; more is a wrong file."""
MAX_SHOWN_PROBLEMS = 15
"""Bad lines listed in the summary; the rest are counted ("... e mais X")."""
MAX_REASON_CHARS = 300
"""One long reason (a row with several problems) is cut, not the whole summary."""
PROBLEMS_BUDGET = 3000
"""Characters of reasons per summary: fewer lines are listed rather than go over Telegram's
4096 per message; the rest are counted in "... e mais X"."""
CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
SPREADSHEET_EXTENSIONS = frozenset({".xlsx", ".xls", ".xlsm", ".xlsb", ".ods", ".numbers"})
_SPREADSHEET_MIME = ("spreadsheet", "excel", "ms-office")
_TEXT_MIME = ("text/", "application/csv")


def export_filename(account: Account, context: ClientmgrContext) -> str:
    """``clientes-04-03-2026.csv``: the seller's local date, sortable enough in a chat."""
    today = account.local_now(context.services.clock.now()).date()
    return f"clientes-{today:%d-%m-%Y}.csv"


def _cancel_rows() -> Keyboard:
    return [[(t("common.cancel"), "x:cancel")]]


def _after_rows(*, again: bool) -> Keyboard:
    rows: list[list[tuple[str, str]]] = []
    if again:
        rows.append([(t("csv.again"), "csv:import")])
    rows.append([(t("csv.view_clients"), "cl:list:all:0"), (t("common.menu"), "m:home")])
    return rows


# --- importar ------------------------------------------------------------------------------


async def ask_file(update: Update, context: ClientmgrContext, account: Account) -> str:
    """The Importar button: refuse an expired account now, else explain and wait for the file."""
    services = context.services
    await guards.ensure_writable(services.uow_factory, services.clock, account.id)  # type: ignore[arg-type]
    await reply(
        update,
        t("csv.ask", example=t("csv.example")),
        keyboard(context, _cancel_rows()),
    )
    return FILE_STATE


async def typed_instead_of_file(
    update: Update, context: ClientmgrContext, account: Account
) -> None:
    """Text in ``csv.file``: say how to attach a document, and keep waiting."""
    await reply(update, t("csv.need_file"), keyboard(context, _cancel_rows()), edit=False)


def _refusal(document: Document) -> Raw | None:
    """Why this document is not worth downloading, judged on what Telegram says about it."""
    name = document.file_name or ""
    suffix = PurePosixPath(name.lower()).suffix
    mime = (document.mime_type or "").lower()
    shown = name or t("csv.unnamed")
    named_csv = suffix in CSV_EXTENSIONS
    if suffix in SPREADSHEET_EXTENSIONS or (
        not named_csv and any(part in mime for part in _SPREADSHEET_MIME)
    ):
        return t("csv.excel", name=shown)
    if not named_csv and not mime.startswith(_TEXT_MIME):
        return t("csv.not_csv", name=shown)
    if document.file_size is not None and document.file_size > MAX_UPLOAD_BYTES:
        return _too_big(document.file_size)
    return None


def _too_big(size: int) -> Raw:
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return t("csv.too_big", size=megabytes, limit=MAX_UPLOAD_BYTES // (1024 * 1024))


def _summary(report: ImportReport, check: NumberCheck | None) -> Raw:
    """ "✅ 2 novos, 1 atualizado" plus the first bad lines (escaped), ignored columns and
    the WhatsApp check of the imported numbers."""
    if report.total == 0:
        return t("csv.nothing")
    new = (
        t("csv.count_new_one")
        if report.inserted == 1
        else t("csv.count_new", count=report.inserted)
    )
    updated = (
        t("csv.count_updated_one")
        if report.updated == 1
        else t("csv.count_updated", count=report.updated)
    )
    parts = [t("csv.done", new=new, updated=updated)]
    if report.errors:
        count = len(report.errors)
        lines = [t("csv.problems_one") if count == 1 else t("csv.problems", count=count)]
        shown = budget = 0
        for error in report.errors[:MAX_SHOWN_PROBLEMS]:
            problem = str(error)
            if len(problem) > MAX_REASON_CHARS:
                problem = problem[: MAX_REASON_CHARS - 1] + "…"
            budget += len(problem)
            if shown and budget > PROBLEMS_BUDGET:
                break
            lines.append(t("csv.problem", problem=problem))
            shown += 1
        if count > shown:
            lines.append(t("csv.more", count=count - shown))
        parts.append("\n".join(lines))
        parts.append(t("csv.fix_hint"))
    if report.ignored_columns:
        parts.append(t("csv.ignored", columns=", ".join(report.ignored_columns)))
    if check is not None:
        parts.append(import_note(check))
    return Raw("\n\n".join(parts))


async def _import(
    update: Update, context: ClientmgrContext, account: Account, *, in_flow: bool
) -> bool:
    """Judge, download and import the message's document; True when the import ran."""
    document = update.effective_message.document  # type: ignore[union-attr]
    if document is None:
        return False
    services = context.services
    # Before judging the file: an expired seller should not convert a sheet for nothing.
    await guards.ensure_writable(services.uow_factory, services.clock, account.id)  # type: ignore[arg-type]
    again = _cancel_rows() if in_flow else _after_rows(again=True)
    refusal = _refusal(document)
    if refusal is not None:
        await reply(update, refusal, keyboard(context, again), edit=False)
        return False
    telegram_file = await context.bot.get_file(document.file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > MAX_UPLOAD_BYTES:
        await reply(update, _too_big(len(data)), keyboard(context, again), edit=False)
        return False
    try:
        report = await importing.import_clients(
            services.uow_factory,
            services.clock,
            account.id,  # type: ignore[arg-type]
            data,
        )
    except InvalidCsvError as exc:
        text = t("csv.unreadable", reason=exc.reason, example=t("csv.example"))
        await reply(update, text, keyboard(context, again), edit=False)
        return False
    check = None
    if report.client_ids:
        check = await check_many(context, account.id, report.client_ids)  # type: ignore[arg-type]
    markup = keyboard(context, _after_rows(again=bool(report.errors)))
    await reply(update, _summary(report, check), markup, edit=False)
    return True


async def got_file(update: Update, context: ClientmgrContext, account: Account) -> int | None:
    """A document in ``csv.file``: imported → END; refused or unreadable → ask again."""
    return END if await _import(update, context, account, in_flow=True) else None


async def dropped_file(update: Update, context: ClientmgrContext, account: Account) -> None:
    """A document sent outside any flow: import it straight away (or say why not)."""
    await _import(update, context, account, in_flow=False)


# --- exportar ------------------------------------------------------------------------------


async def export(update: Update, context: ClientmgrContext, account: Account) -> None:
    """Send the client book as a CSV document (expired accounts too)."""
    services = context.services
    account_id: int = account.id  # type: ignore[assignment]
    today = account.local_now(services.clock.now()).date()
    count = (
        await clients.list_clients(
            services.uow_factory, account_id, today=today, filter=ClientFilter.ALL, per_page=1
        )
    ).total
    if count == 0:
        await reply(
            update,
            t("csv.export_empty"),
            keyboard(context, [[(t("menu.import"), "csv:import")], [(t("common.menu"), "m:home")]]),
        )
        return
    data = await importing.export_clients(services.uow_factory, account_id)
    caption = t("csv.export_caption_one") if count == 1 else t("csv.export_caption", count=count)
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        document=data,
        filename=export_filename(account, context),
        caption=caption,
        parse_mode="HTML",
        reply_markup=keyboard(context, [[(t("common.menu"), "m:home")]]),
    )


def register(registry: BotRegistry) -> None:
    registry.entry("csv:import", ask_file)
    registry.state(FILE_STATE, got_file, document=True)
    registry.state(FILE_STATE, typed_instead_of_file)
    registry.button("csv:export", export)
    registry.other(MessageHandler(filters.Document.ALL, seller_handler(dropped_file)))
