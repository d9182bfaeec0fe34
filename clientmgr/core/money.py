"""Money in reais: parse what sellers type, format as pt-BR (R$ 1.234,56). Always Decimal."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

__all__ = ["format_brl"]


def format_brl(amount: Decimal) -> str:
    """R$ 1.234,56 — with a plain space, so it reads the same in WhatsApp and Telegram."""
    return format_currency(amount, "BRL", locale="pt_BR").replace("\xa0", " ")
