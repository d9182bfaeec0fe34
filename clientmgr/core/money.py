"""Money in reais: parse what sellers type, format as pt-BR (R$ 1.234,56). Always Decimal.

Sellers write prices the Brazilian way ("35,90", "R$ 1.234,56") but also copy numbers from
apps that use a dot ("35.90"). The parser accepts both when the meaning is clear and refuses
when it is not, because a price off by a factor of 100 is worse than a question.

How separators are read:

- One kind only, a comma: it is the decimal comma ("35,9" = 35,90). Several commas
  ("1,234,567") are refused: that is US grouping, which no one here writes.
- One kind only, a dot: with 1 or 2 digits after a single dot it is a decimal point
  ("1234.56", "35.9"); in groups of exactly 3 it is the pt-BR thousands dot ("1.234" = mil
  duzentos e trinta e quatro, "35.900" = 35 mil e novecentos).
- Both: whichever comes last is the decimal separator and the other must group by
  thousands, so "1.234,56" and "1,234.56" both mean 1234,56.

Zero is allowed (free plans exist); negatives and more than 2 decimal places are not, and
anything above R$ 1.000.000,00 is taken as a typo.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel.numbers import format_currency

from clientmgr.core.i18n import _
from clientmgr.errors import InvalidMoneyError

__all__ = ["MAX_AMOUNT", "format_brl", "parse_money"]

MAX_AMOUNT = Decimal("1000000.00")
"""The largest amount a seller can type; more is almost certainly a slip of the finger."""

_CENTS = Decimal("0.01")

# Longer than any sane amount, even "R$ 1.000.000,00 reais" with extra spaces.
_MAX_INPUT = 64

_SHAPE = re.compile(
    r"(?P<neg>-)?\s*(?:r\s?\$)?\s*(?P<neg2>-)?\s*(?P<num>[0-9.,]+)\s*(?:reais|real)?",
)
_GROUPED = {
    ".": re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+"),
    ",": re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"),
}

_NOT_UNDERSTOOD = _("Não entendi o valor. Use vírgula para os centavos.")


def format_brl(amount: Decimal) -> str:
    """R$ 1.234,56 — with a plain space, so it reads the same in WhatsApp and Telegram."""
    return format_currency(amount, "BRL", locale="pt_BR").replace("\xa0", " ")


def parse_money(text: str) -> Decimal:
    """Return what the seller typed as reais with exactly 2 decimal places.

    Raises InvalidMoneyError with a pt-BR reason for empty, negative, over-precise, too
    large or unreadable input. Never goes through float.
    """
    if len(text) > _MAX_INPUT * 4:
        raise InvalidMoneyError(_("Isso está comprido demais para ser um valor."))
    cleaned = " ".join(unicodedata.normalize("NFKC", text).replace("−", "-").lower().split())
    if not cleaned:
        raise InvalidMoneyError(_("Você não escreveu o valor."))
    if len(cleaned) > _MAX_INPUT:
        raise InvalidMoneyError(_("Isso está comprido demais para ser um valor."))

    match = _SHAPE.fullmatch(cleaned)
    if match is None:
        if any(ch.isalpha() for ch in cleaned.replace("r$", "")):
            raise InvalidMoneyError(_("O valor tem letras. Escreva só o número."))
        raise InvalidMoneyError(_NOT_UNDERSTOOD)
    if match["neg"] or match["neg2"]:
        raise InvalidMoneyError(_("O valor não pode ser negativo."))

    whole, cents = _split(match["num"])
    if len(cents) > 2:
        raise InvalidMoneyError(_("Centavos têm só 2 números depois da vírgula."))
    amount = Decimal(f"{whole or '0'}.{cents or '0'}")
    if amount > MAX_AMOUNT:
        raise InvalidMoneyError(_("Valor alto demais: o máximo é R$ 1.000.000,00."))
    return amount.quantize(_CENTS)


def _split(num: str) -> tuple[str, str]:
    """Split "1.234,56" into ("1234", "56") following the rules in the module docstring."""
    if not any(ch.isdigit() for ch in num):
        raise InvalidMoneyError(_NOT_UNDERSTOOD)
    has_comma, has_dot = "," in num, "." in num
    if has_comma and has_dot:
        decimal_sep = "," if num.rfind(",") > num.rfind(".") else "."
        thousands_sep = "." if decimal_sep == "," else ","
        whole, _sep, cents = num.rpartition(decimal_sep)
        if decimal_sep in whole or not _GROUPED[thousands_sep].fullmatch(whole):
            raise InvalidMoneyError(
                _("Não entendi o valor. Use ponto para milhar e vírgula para os centavos."),
                "1.234,56",
            )
        return whole.replace(thousands_sep, ""), cents
    if has_comma:
        if num.count(",") > 1:
            raise InvalidMoneyError(_NOT_UNDERSTOOD)
        whole, _sep, cents = num.partition(",")
        return whole, cents
    if has_dot:
        if _GROUPED["."].fullmatch(num):
            return num.replace(".", ""), ""
        if num.count(".") > 1:
            raise InvalidMoneyError(
                _("Não entendi o valor. Use ponto para milhar e vírgula para os centavos."),
                "1.234,56",
            )
        whole, _sep, cents = num.partition(".")
        return whole, cents
    return num, ""
