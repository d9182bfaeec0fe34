"""Column types that make SQLite and PostgreSQL hand back the same Python values.

SQLite has neither time zones nor decimals: datetimes are stored as naive UTC text and read
back as aware UTC; money is stored as NUMERIC(12, 2) and read back as an exact two-place
``Decimal`` (never the float SQLite keeps internally).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["CENT", "Money", "UtcDateTime", "as_utc"]

CENT = Decimal("0.01")


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is a bug upstream (the clock gives aware UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value!r}: clientmgr stores timezone-aware datetimes only"
        )
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE on PostgreSQL, naive UTC text on SQLite; aware UTC out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(12, 2)``; on SQLite the float it keeps is turned back into the exact cents."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # asdecimal=False: we do the (exact, two-place) conversion ourselves below.
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value.quantize(CENT)
        return Decimal(f"{float(value):.2f}")
