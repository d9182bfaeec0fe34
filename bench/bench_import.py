"""How much slower than the bare minimum is a CSV import, end to end, on SQLite and PostgreSQL?

Run::

    python bench/bench_import.py [--rows 100000] [--pg-url postgresql://...] [--no-pg] [--full]

It generates a client sheet like a seller's (``;``, "(11) 9xxxx-xxxx", "35,90", dd/mm/aaaa),
then, on a fresh SQLite file and on a fresh PostgreSQL schema migrated with the real
migrations, times ``import_clients`` (parse, validate, upsert, commit) and, with ``--full``, a
re-import of the same sheet (every row an update) and ``export_clients`` (about a minute more
at 100k rows; the default run stays around half a minute).

Absolute seconds depend on the machine, so each figure is also printed as a ratio against a
floor measured in the same run on the same database: the stdlib ``csv`` parse of the same
bytes plus one bare SQLAlchemy Core ``insert`` executemany of the same rows (already parsed)
into an index-free scratch table. A ratio of 3.0 means "three times the cost of just reading
the file and writing its rows". Nothing here asserts a speed; unit tests never do either.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.core.csvio import parse_csv
from clientmgr.core.cycles import parse_cycle
from clientmgr.ports.clock import ManualClock
from clientmgr.services.accounts import register_account
from clientmgr.services.importing import export_clients, import_clients

__all__ = ["main"]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
T = TypeVar("T")

_DDDS = (11, 21, 31, 41, 47, 51, 61, 71, 81, 85, 91)
_PLANS = ("Básico", "Premium", "Família", "")
_CYCLES = ("mensal", "mensal", "mensal", "trimestral", "anual", "")
_FIRST = ("João", "Maria", "José", "Ana", "Conceição", "Luís", "Bia", "Zé", "Fátima", "Caio")
_LAST = ("Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Araújo", "Gonçalves")


def make_sheet(rows: int, seed: int = 7) -> tuple[bytes, list[dict[str, Any]]]:
    """A ``;`` sheet with ``rows`` distinct clients, the way Excel pt-BR saves one (UTF-8 BOM),
    and the same clients as plain column values for the floor's bare insert."""
    rnd = random.Random(seed)
    values: list[dict[str, Any]] = []
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Nome", "Telefone", "Plano", "Valor", "Vencimento", "Ciclo", "Observações"])
    for i in range(rows):
        ddd = _DDDS[i % len(_DDDS)]
        number = 60_000_000 + i // len(_DDDS)
        price = Decimal(rnd.randint(1000, 20000)) / 100
        due = date(2026, rnd.randint(1, 12), rnd.randint(1, 28))
        name = f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)} {i}"
        plan, cycle = rnd.choice(_PLANS), rnd.choice(_CYCLES)
        notes = "paga no pix" if i % 5 == 0 else ""
        writer.writerow(
            [
                name,
                f"({ddd}) 9{number // 10_000:04d}-{number % 10_000:04d}",
                plan,
                f"{price:.2f}".replace(".", ","),
                due.strftime("%d/%m/%Y"),
                cycle,
                notes,
            ]
        )
        values.append(
            {
                "account_id": 1,
                "name": name,
                "phone": f"+55{ddd}9{number}",
                "plan": plan,
                "price": price,
                "cycle": parse_cycle(cycle).code,
                "due_date": due,
                "anchor_day": due.day,
                "notes": notes,
            }
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8"), values


async def timed(work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    start = time.perf_counter()
    result = await work()
    return time.perf_counter() - start, result


def floor_parse(data: bytes) -> float:
    """Seconds for the stdlib to split the same bytes into cells, nothing more."""
    start = time.perf_counter()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    elapsed = time.perf_counter() - start
    assert len(rows) > 1
    return elapsed


async def floor_insert(engine: AsyncEngine, rows: list[dict[str, Any]]) -> float:
    """Seconds for one bare Core insert executemany of the same rows into an index-free table."""
    scratch = Table(
        f"bench_scratch_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("account_id", Integer, nullable=False),
        Column("name", Text, nullable=False),
        Column("phone", String(32), nullable=False),
        Column("plan", Text, nullable=False),
        Column("price", Numeric(12, 2), nullable=False),
        Column("cycle", String(16), nullable=False),
        Column("due_date", Date, nullable=False),
        Column("anchor_day", SmallInteger, nullable=False),
        Column("notes", Text, nullable=False),
    )
    async with engine.begin() as conn:
        await conn.run_sync(scratch.create)
    try:
        start = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(scratch.insert(), rows)
        return time.perf_counter() - start
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(scratch.drop)


async def run_on(
    label: str, engine: AsyncEngine, data: bytes, rows: list[dict[str, Any]], full: bool
) -> None:
    await migrate(engine)
    uow_factory = sql_unit_of_work_factory(create_session_factory(engine))
    clock = ManualClock(NOW)
    account, _ = await register_account(uow_factory, clock, 1, "Bench")
    assert account.id is not None
    account_id = account.id

    floor = floor_parse(data) + await floor_insert(engine, rows)
    first_s, first = await timed(lambda: import_clients(uow_factory, clock, account_id, data))
    n = len(rows)
    assert (first.inserted, first.updated, first.errors) == (n, 0, ()), first
    steps = [("import (all new)", first_s)]
    if full:
        again_s, again = await timed(lambda: import_clients(uow_factory, clock, account_id, data))
        export_s, exported = await timed(lambda: export_clients(uow_factory, account_id))
        assert (again.inserted, again.updated, again.errors) == (0, n, ()), again
        assert exported.count(b"\r\n") == n + 1
        steps += [("re-import (all upd.)", again_s), ("export", export_s)]
    print(f"\n{label}: {n} rows, floor (csv parse + bare executemany) {floor:.2f} s")
    print(f"  {'step':<22}{'seconds':>9}{'rows/s':>11}{'x floor':>9}")
    for step, seconds in steps:
        print(f"  {step:<22}{seconds:>9.2f}{n / seconds:>11,.0f}{seconds / floor:>9.2f}")


async def bench_sqlite(data: bytes, rows: list[dict[str, Any]], full: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            await run_on("SQLite (file, WAL)", engine, data, rows, full)
        finally:
            await engine.dispose()


async def bench_postgres(url: str, data: bytes, rows: list[dict[str, Any]], full: bool) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(url, connect_args={"server_settings": {"search_path": schema}})
        try:
            await run_on(f"PostgreSQL (fresh schema {schema})", engine, data, rows, full)
        finally:
            await engine.dispose()
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def main_async(args: argparse.Namespace) -> None:
    data, rows = make_sheet(args.rows)
    print(f"sheet: {args.rows} rows, {len(data) / 1e6:.1f} MB, Python {sys.version.split()[0]}")
    start = time.perf_counter()
    parse_csv(data, NOW.date())
    parse_s = time.perf_counter() - start
    csv_s = floor_parse(data)
    print(
        f"parse_csv alone (decode, split, validate every cell, no database): {parse_s:.2f} s, "
        f"{args.rows / parse_s:,.0f} rows/s, {parse_s / csv_s:.1f}x the stdlib csv split"
    )
    await bench_sqlite(data, rows, args.full)
    if not args.no_pg:
        await bench_postgres(args.pg_url, data, rows, args.full)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="clients in the sheet")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL to use")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument(
        "--full", action="store_true", help="also time a re-import (all updates) and an export"
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
