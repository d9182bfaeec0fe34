"""How a client search matches, shared with the in-memory adapter so both answer alike.

Names are compared through a folded key (casefold, accents stripped) computed in Python
and stored beside the name: SQLite's ``lower()`` only knows ASCII and PostgreSQL's depends
on the server locale, so doing it here is the one way "JOÃO", "joão" and "joao" behave the
same on every backend. The key also orders the client list, byte-wise, for the same reason.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_key", "phone_fragment"]

_PHONE_CHARS = re.compile(r"^[\d\s+().-]+$")


def name_key(text: str) -> str:
    """Case- and accent-free form of a name: ``"Conceição Ávila"`` → ``"conceicao avila"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def phone_fragment(search: str) -> str | None:
    """The digits to look for in phones when ``search`` looks like (part of) a phone number.

    "(11) 98888" → "1198888"; "Ana" → None, so typing a name never matches phones by accident.
    """
    if not _PHONE_CHARS.match(search):
        return None
    digits = "".join(ch for ch in search if ch.isdigit())
    return digits or None
