"""Small formatting helpers for showing clients, shared by every screen that lists or shows one.

Why a module of its own: the client list, the client card, the dues screen and the search
results must show a client the same way (same status colours, same short label), or the
seller has to learn several codes. Everything here is pure formatting; the rules behind a
colour (what "overdue" means) mirror ``services.clients.list_clients`` filters.

- ``status_emoji(client, today)`` — ⏸️ paused, 🔴 overdue, 🟠 due today, 🟡 due within 7
  days, 🟢 later.
- ``client_label(client, today)`` — "🔴 Maria Silva · 10/12 · R$ 35,90", short enough for a
  button (long names are cut with "…"). Button labels are plain text, never HTML.
- ``client_details(...)`` / ``client_summary(client)`` — the multi-line HTML block (name,
  WhatsApp, plan, price, due date, cycle) with every value escaped.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.core.phones import format_phone

__all__ = [
    "DUE_SOON_DAYS",
    "MAX_LABEL_NAME",
    "client_details",
    "client_label",
    "client_summary",
    "short_date",
    "status_emoji",
    "truncate",
]

DUE_SOON_DAYS = 7
""""Vencendo" means due from today up to this many days ahead (as the due_soon filter)."""

MAX_LABEL_NAME = 22
"""Characters of the name kept in a button label; the rest of the label needs ~25 more."""


def status_emoji(client: Client, today: date) -> str:
    """The one colour a seller reads at a glance; paused wins over any due date."""
    if client.paused:
        return "⏸️"
    if client.due_date < today:
        return "🔴"
    if client.due_date == today:
        return "🟠"
    if client.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return "🟡"
    return "🟢"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with "…" when something was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_date(value: date) -> str:
    """10/12 — the year only matters in the details, not in a list."""
    return value.strftime("%d/%m")


def client_label(client: Client, today: date, *, max_name: int = MAX_LABEL_NAME) -> str:
    """ "🔴 Maria Silva · 10/12 · R$ 35,90" (plain text for a button label)."""
    name = truncate(client.name, max_name)
    return (
        f"{status_emoji(client, today)} {name} · {short_date(client.due_date)} · "
        f"{format_brl(client.price)}"
    )


def client_details(
    *,
    name: str,
    phone: str,
    plan: str,
    price: Decimal,
    due_date: date,
    cycle: BillingCycle,
) -> Raw:
    """The client's fields, one per line, as safe HTML (``phone`` in E.164)."""
    return t(
        "clients.details",
        name=name,
        phone=format_phone(phone),
        plan=plan or t("clients.no_plan"),
        price=format_brl(price),
        due=format_date(due_date),
        cycle=cycle.label(),
    )


def client_summary(client: Client) -> Raw:
    """``client_details`` of a stored client."""
    return client_details(
        name=client.name,
        phone=client.phone,
        plan=client.plan,
        price=client.price,
        due_date=client.due_date,
        cycle=client.cycle,
    )
