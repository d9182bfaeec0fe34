"""gettext for the domain: every pt-BR sentence the core and the services hand to a person.

There is one message catalog, ``clientmgr/locale/pt_BR/LC_MESSAGES/clientmgr.po`` (gettext,
read with Babel), and two ways into it:

- The bot's screens use **stable keys** (``menu.title``) through the Telegram adapter's
  ``t()``, which also HTML-escapes the values it fills in.
- The domain (``clientmgr.core``, ``clientmgr.services``, ``clientmgr.errors``) uses classic
  gettext **msgids**: the msgid is the pt-BR source text itself, wrapped in ``_()`` where it
  is written, so the code still reads as the sentence the seller gets. ``_()`` returns the
  catalog's msgstr, or the msgid when the catalog has none.

Interpolated text uses named placeholders filled *after* the lookup, never an f-string
inside ``_()`` (the msgid must be a constant a test can find in the catalog)::

    _("O DDD {ddd} não existe.").format(ddd=ddd)

A test (``tests/unit/test_i18n.py``) checks that every ``_("...")`` literal is in the
catalog and that no pt-BR sentence is left outside ``_()`` in those modules.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["_", "catalog_path", "translations"]

_CATALOG = Path(__file__).parents[1] / "locale" / "pt_BR" / "LC_MESSAGES" / "clientmgr.po"


def catalog_path() -> Path:
    """The one pt-BR catalog (shared with the bot's screens)."""
    return _CATALOG


@cache
def translations() -> dict[str, str]:
    """msgid → msgstr for every translated entry, loaded once."""
    with catalog_path().open("rb") as fh:
        catalog = read_po(fh, locale="pt_BR")
    return {m.id: str(m.string) for m in catalog if isinstance(m.id, str) and m.id and m.string}


def _(message: str) -> str:
    """The catalog's text for the pt-BR source ``message`` (``message`` itself if absent)."""
    return translations().get(message, message)
