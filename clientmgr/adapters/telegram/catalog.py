"""The bot's one pt-BR message catalog (gettext .po, read with Babel): every word a seller reads.

Message ids are stable keys (``menu.title``); the pt-BR text lives in
``clientmgr/locale/pt_BR/LC_MESSAGES/clientmgr.po``. ``t()`` HTML-escapes every value it fills in,
so a client named ``<b>_*[x]`` can never break a message; pass ``Raw(...)`` for values
that are already safe HTML (another catalog text, a formatted list).
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["CATALOG_PATH", "Raw", "messages", "t"]

CATALOG_PATH = Path(__file__).parents[2] / "locale" / "pt_BR" / "LC_MESSAGES" / "clientmgr.po"
_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Raw(str):
    """A value that is already safe Telegram HTML and must not be escaped again."""

    __slots__ = ()


@cache
def messages() -> dict[str, str]:
    """Key → pt-BR text, loaded once."""
    with CATALOG_PATH.open("rb") as fh:
        catalog = read_po(fh, locale="pt_BR")
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def t(key: str, **values: object) -> Raw:
    """The pt-BR text for ``key`` with ``{name}`` fields filled (escaped unless Raw)."""
    text = messages()[key]
    if not values:
        return Raw(text)

    def fill(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return value if isinstance(value, Raw) else html.escape(str(value), quote=False)

    return Raw(_FIELD.sub(fill, text))
