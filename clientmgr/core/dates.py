"""Dates as Brazilians write them: parse relative to the seller's today, format as dd/mm/aaaa."""

from __future__ import annotations

from datetime import date

__all__ = ["format_date"]


def format_date(value: date) -> str:
    """10/12/2026."""
    return value.strftime("%d/%m/%Y")
