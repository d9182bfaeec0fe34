"""The ``clientmgr`` command: migrate, import/export CSV, PIX codes, accounts and clients."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from attrs import evolve

from clientmgr import connect
from clientmgr.adapters.qrcode import brcode_png
from clientmgr.adapters.sql.migrate import migrate as run_migrations
from clientmgr.app import Clientmgr
from clientmgr.config import Settings
from clientmgr.core.clients import ClientFilter
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl, parse_money
from clientmgr.core.phones import format_phone
from clientmgr.core.pix import PixCharge, build_brcode
from clientmgr.errors import ClientmgrError, InvalidInputError

__all__ = ["app", "main"]

app = typer.Typer(
    help="clientmgr: client book, reminders and PIX for small sellers.",
    no_args_is_help=True,
    add_completion=False,
)
accounts_app = typer.Typer(help="Seller accounts.", no_args_is_help=True)
clients_app = typer.Typer(help="A seller's clients.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(clients_app, name="clients")

T = TypeVar("T")
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        show_envvar=True,
        help="Default: the embedded SQLite file clientmgr.db.",
    ),
]
AccountId = Annotated[
    int, typer.Option("--account", "-a", help="Account id (see `accounts list`).")
]


def _url(database_url: str | None) -> str:
    return database_url or Settings.from_env().database_url


def _run(database_url: str | None, work: Callable[[Clientmgr], Awaitable[T]]) -> T:
    """Open the storage, run one piece of work, turn our errors into a message and exit code 1."""

    async def go() -> T:
        async with connect(_url(database_url)) as cm:
            return await work(cm)

    try:
        return asyncio.run(go())
    except ClientmgrError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL)."""
    url = _url(database_url)
    asyncio.run(run_migrations(url))
    typer.echo("database is up to date")


def _serve(database_url: str | None, role: Callable[[Settings], Awaitable[None]]) -> None:
    """Run a long-lived role until it stops; our errors become a message and exit code 1."""
    settings = Settings.from_env()
    if database_url:
        settings = evolve(settings, database_url=database_url)
    try:
        asyncio.run(role(settings))
    except ClientmgrError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def bot(database_url: DatabaseUrl = None) -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN; polling, or webhook with TELEGRAM_WEBHOOK_URL)."""
    from runners.bot import run_bot

    _serve(database_url, run_bot)


@app.command()
def web(database_url: DatabaseUrl = None) -> None:
    """Run the web runner on PORT: WhatsApp sidecar events, /healthz, /readyz, /metrics."""
    from runners.web import run_web

    _serve(database_url, run_web)


@app.command()
def worker(database_url: DatabaseUrl = None) -> None:
    """Run the scheduler and the paced WhatsApp dispatcher (SIDECAR_URL for the real sidecar)."""
    from runners.worker import run_worker

    _serve(database_url, run_worker)


@app.command("pix")
def pix(
    key: Annotated[str, typer.Option(help="PIX key: CPF, CNPJ, e-mail, phone or random key.")],
    name: Annotated[str, typer.Option(help="Receiver name (up to 25 letters).")],
    city: Annotated[str, typer.Option(help="Receiver city (up to 15 letters).")],
    amount: Annotated[str | None, typer.Option(help='Amount, e.g. "35,90".')] = None,
    txid: Annotated[str | None, typer.Option(help="Transaction id (letters/digits, ≤ 25).")] = None,
    png: Annotated[
        Path | None, typer.Option(help="Also write the QR code to this PNG file.")
    ] = None,
) -> None:
    """Print a static PIX BR Code (copia e cola) and optionally save its QR code as PNG."""
    try:
        charge = PixCharge(
            key=key,
            name=name,
            city=city,
            amount=parse_money(amount) if amount else None,
            txid=txid or "***",
        )
        code = build_brcode(charge)
    except InvalidInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(code)
    if png is not None:
        png.write_bytes(brcode_png(code))
        typer.echo(f"QR code written to {png}", err=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    account: AccountId,
    database_url: DatabaseUrl = None,
) -> None:
    """Import clients from a CSV (comma or semicolon; UTF-8 or Excel's Windows-1252)."""
    report = _run(database_url, lambda cm: cm.import_csv(account, file.read_bytes()))
    typer.echo(f"{report.inserted} new, {report.updated} updated, {len(report.errors)} with errors")
    for error in report.errors:
        typer.echo(f"  line {error.line}: {error.reason}")
    if report.errors:
        raise typer.Exit(3)


@app.command("export")
def export(
    account: AccountId,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export the account's clients as CSV (UTF-8 with BOM, semicolons: opens in Excel)."""
    data = _run(database_url, lambda cm: cm.export_csv(account))
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)


@accounts_app.command("list")
def accounts_list(database_url: DatabaseUrl = None) -> None:
    """Every seller account with its status."""

    async def work(cm: Clientmgr) -> None:
        now = cm.clock.now()
        for acc in await cm.accounts():
            typer.echo(
                f"{acc.id:>6}  tg:{acc.telegram_id:<12} {acc.status(now).value:<8} "
                f"{acc.days_left(now):>3}d  {acc.business_name or acc.name}"
            )

    _run(database_url, work)


@accounts_app.command("create")
def accounts_create(
    telegram_id: Annotated[int, typer.Option(help="The seller's Telegram user id.")],
    name: Annotated[str, typer.Option(help="The seller's name.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create a seller account (7-day trial); prints its id. Existing ones are returned as is."""
    acc = _run(database_url, lambda cm: cm.register_account(telegram_id, name))
    typer.echo(str(acc.id))


@accounts_app.command("grant")
def accounts_grant(
    account: AccountId,
    days: Annotated[int, typer.Option(help="Days of access to add.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Give an account days of access (support, partners)."""
    acc = _run(database_url, lambda cm: cm.grant_days(account, days))
    typer.echo(f"account {acc.id} paid until {acc.paid_until:%d/%m/%Y %H:%M} UTC")


@clients_app.command("list")
def clients_list(
    account: AccountId,
    filter: Annotated[
        str, typer.Option(help="all, due_soon, overdue, paused or archived.")
    ] = ClientFilter.ALL,
    search: Annotated[str | None, typer.Option(help="Part of a name or phone.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The account's clients, by due date."""
    rows = _run(database_url, lambda cm: cm.clients(account, filter=filter, search=search))
    for c in rows:
        flags = "".join(f for f, on in (("P", c.paused), ("A", c.archived)) if on)
        typer.echo(
            f"{c.id:>6}  {format_date(c.due_date)}  {format_brl(c.price):>12}  "
            f"{format_phone(c.phone):<17} {c.name} ({c.plan or '-'}) {flags}"
        )
    typer.echo(f"{len(rows)} client(s)", err=True)


_DEMO_CLIENTS = (
    ("Maria Silva", "(11) 98888-7777", "Plano Mensal", "35,90", 3),
    ("João Souza", "(21) 99777-6666", "IPTV Completo", "45,00", 0),
    ("Ana Lima", "(31) 3333-4444", "Personal 2x semana", "180,00", -2),
)


@app.command()
def demo(database_url: DatabaseUrl = None) -> None:
    """Create a demo seller with three clients (once) and show them: a first look, offline."""

    async def work(cm: Clientmgr) -> int:
        acc = await cm.register_account(telegram_id=1, name="Loja Demo")
        if not await cm.clients(acc.id):  # type: ignore[arg-type]
            today = acc.local_now(cm.clock.now()).date()
            for name, phone, plan, price, days in _DEMO_CLIENTS:
                await cm.add_client(
                    acc.id,
                    name=name,
                    phone=phone,
                    plan=plan,  # type: ignore[arg-type]
                    price=price,
                    due_date=date.fromordinal(today.toordinal() + days),
                )
        return acc.id  # type: ignore[return-value]

    account_id = _run(database_url, work)
    typer.echo(f"Demo seller: account {account_id}. Its clients:\n")
    clients_list(
        account=account_id, filter=ClientFilter.ALL, search=None, database_url=database_url
    )
    typer.echo(
        f"\nTry:  clientmgr export -a {account_id}\n"
        f"      clientmgr pix --key '+5511988887777' --name 'Loja Demo' --city 'Sao Paulo' "
        "--amount 35,90 --png pix.png\n"
        "      clientmgr --help"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
