"""Phone numbers as sellers type them, stored as E.164 so one client has one phone.

Sellers paste numbers from WhatsApp, from old notebooks and from spreadsheets, so the parser
is forgiving about punctuation ("(11) 98888-7777", "+55 11 9 8888-7777", "011 98888-7777")
but strict about the digits: a wrong number means reminders go to a stranger. When it says
no, the reason names the actual mistake (missing DDD, missing 9, unknown DDD) because the bot
shows that reason to the seller as-is.

``phonenumbers`` does the real validation; the checks before it only exist to turn its
generic verdicts into pt-BR sentences a seller understands.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from clientmgr.core.i18n import _
from clientmgr.errors import InvalidPhoneError

__all__ = ["format_phone", "is_mobile", "parse_phone"]

# Nobody types a phone this long; refusing early keeps odd pastes (a whole message, a
# 10k-character blob) away from the regexes and from phonenumbers.
_MAX_INPUT = 64

# Punctuation people put in phone numbers. Anything else that is not a digit is rejected,
# so "11 98888-7777 ou 11 97777-6666" does not silently become one number.
_ALLOWED = re.compile(r"[0-9+()\-./\s]*")

# DDDs (area codes) in use in Brazil, per ANATEL. Used only to explain a rejection.
_BR_DDDS = frozenset(
    {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38}
    | {41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69}
    | {71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89}
    | {91, 92, 93, 94, 95, 96, 97, 98, 99}
)

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def parse_phone(text: str, region: str = "BR") -> str:
    """Return ``text`` as E.164 ("+5511988887777") or raise InvalidPhoneError saying why.

    ``region`` is where numbers without "+" are assumed to be; foreign numbers must start
    with "+" and the country code. Brazilian mobiles must carry the 9th digit: phonenumbers
    rejects "(11) 8888-7777" and guessing the missing 9 could reach the wrong person.
    """
    cleaned = _clean(text)
    digits = re.sub(r"[^0-9]", "", cleaned)
    international = cleaned.startswith("+")
    if not digits:
        raise InvalidPhoneError(_("O telefone não tem nenhum número."))
    if "+" in cleaned.lstrip("+"):
        raise InvalidPhoneError(_("O sinal + só pode aparecer no começo, antes do código do país."))
    if not international and region == "BR" and len(digits) in (8, 9):
        raise InvalidPhoneError(
            _("Faltou o DDD. Escreva o número com o DDD na frente."), "(11) 98888-7777"
        )
    if len(digits) < 8:
        raise InvalidPhoneError(_("O telefone está curto demais. Confira se faltou algum número."))
    if len(digits) > 15:
        raise InvalidPhoneError(
            _("O telefone está comprido demais. Confira se sobrou algum número.")
        )

    try:
        number = phonenumbers.parse(cleaned, region)
    except NumberParseException as exc:
        raise _from_parse_error(exc) from None

    if not phonenumbers.is_valid_number(number):
        raise _why_invalid(number)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """ "(11) 98888-7777" for Brazil, "+1 650-253-0000" elsewhere: what a person reads best."""
    number = _parse_e164(e164)
    if number.country_code == 55:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def is_mobile(e164: str) -> bool:
    """True if the number can be a mobile (the only kind that can have WhatsApp reliably).

    Countries whose plans do not tell mobiles from landlines (e.g. the US) count as mobile,
    since refusing them would block real clients.
    """
    return phonenumbers.number_type(_parse_e164(e164)) in _MOBILE_TYPES


def _clean(text: str) -> str:
    """Normalise width and spaces, and reject inputs that cannot be a phone at all."""
    if len(text) > _MAX_INPUT * 4:
        raise InvalidPhoneError(_("Isso está comprido demais para ser um telefone."))
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise InvalidPhoneError(_("Você não escreveu o telefone."))
    if len(cleaned) > _MAX_INPUT:
        raise InvalidPhoneError(_("Isso está comprido demais para ser um telefone."))
    if any(ch.isalpha() for ch in cleaned):
        raise InvalidPhoneError(_("O telefone tem letras. Escreva só os números, com o DDD."))
    if not _ALLOWED.fullmatch(cleaned):
        raise InvalidPhoneError(
            _("O telefone tem símbolos que não são números. Escreva só os números, com o DDD.")
        )
    return cleaned


def _from_parse_error(exc: NumberParseException) -> InvalidPhoneError:
    """Translate phonenumbers' parse failures into the seller's words."""
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return InvalidPhoneError(_("O código do país depois do + não existe."), "+55 11 98888-7777")
    if exc.error_type == NumberParseException.TOO_LONG:
        return InvalidPhoneError(
            _("O telefone está comprido demais. Confira se sobrou algum número.")
        )
    if exc.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return InvalidPhoneError(_("O telefone está curto demais. Confira se faltou algum número."))
    return InvalidPhoneError(_("Isso não parece um número de telefone."))


def _why_invalid(number: phonenumbers.PhoneNumber) -> InvalidPhoneError:
    """Pick the most specific reason phonenumbers refused a parsed number."""
    national = str(number.national_number)
    if number.country_code == 55 and len(national) in (10, 11):
        ddd, rest = int(national[:2]), national[2:]
        if ddd not in _BR_DDDS:
            return InvalidPhoneError(
                _("O DDD {ddd} não existe. Confira os dois primeiros números.").format(
                    ddd=f"{ddd:02d}"
                )
            )
        if len(rest) == 8 and rest[0] == "9":
            # "98888-777" (a digit dropped) or "9888-7777" (an old mobile): can't tell which.
            return InvalidPhoneError(
                _("Celular tem 9 números depois do DDD, começando com 9. Confira se faltou algum.")
            )
        if len(rest) == 8 and rest[0] in "678":
            fixed = phonenumbers.parse(f"+55{ddd}9{rest}")
            if phonenumbers.is_valid_number(fixed):
                example = phonenumbers.format_number(fixed, PhoneNumberFormat.NATIONAL)
                return InvalidPhoneError(_("Faltou o 9 na frente do número do celular."), example)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.TOO_SHORT:
        return InvalidPhoneError(_("O telefone está curto demais. Confira se faltou algum número."))
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        return InvalidPhoneError(
            _("O telefone está comprido demais. Confira se sobrou algum número.")
        )
    if reason == phonenumbers.ValidationResult.INVALID_LENGTH:
        return InvalidPhoneError(_("O telefone não tem a quantidade certa de números. Confira."))
    return InvalidPhoneError(_("Esse número de telefone não existe. Confira os números."))


def _parse_e164(e164: str) -> phonenumbers.PhoneNumber:
    """Read back a number we stored; anything else is a caller bug reported as bad input."""
    try:
        return phonenumbers.parse(e164, None)
    except NumberParseException:
        raise InvalidPhoneError(_("Telefone em formato inesperado."), "+5511988887777") from None
