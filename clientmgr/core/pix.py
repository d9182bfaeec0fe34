"""Static PIX BR Code ("Pix copia e cola"): the text a seller's client pastes to pay.

The format is the Banco Central's "Manual de Padrões para Iniciação do Pix" on top of EMV
QRCPS-MPM: a flat list of ``ID (2 digits) + length (2 digits) + value`` fields, closed by a
CRC16-CCITT-FALSE over everything before it, including the ``6304`` that opens the CRC field.
It is pure string work, so it lives in the core; drawing the QR image is an adapter's job.

Decisions, each made so a payer's bank never refuses what we hand out:

- ID 01 (point of initiation) is **omitted**. It is optional, the BCB's own static example
  leaves it out, and without it our output is byte-for-byte what the BCB example and Stark
  Bank's reference generator produce for the same data. ``parse_brcode`` accepts "11" and "12".
- Fields are written in ascending ID order; merchant category 52 is always "0000".
- Name (59, ≤ 25) and city (60, ≤ 15) lose accents (NFKD) and anything outside printable
  ASCII, get their whitespace collapsed, and are then **truncated** to the limit: a long
  business name must not stop reminders from going out. An empty result is an error. Case is
  kept as typed (upper case is common, not required).
- The description (26-02) is cleaned the same way and truncated so the whole 26 template
  stays ≤ 99 characters; with a long e-mail key it may be dropped entirely.
- PIX keys are stored the way the DICT stores them: CPF/CNPJ as bare digits (CNPJ also in
  the 2026 alphanumeric form), phone as ``+55`` E.164 (mobile only), e-mail and random key
  (EVP) in lower case. Eleven bare digits are always a CPF, exactly as inside a BR Code; a
  phone must be typed with ``+55`` or with the DDD in parentheses / separated by a space.
- ``parse_brcode`` is strict where a lax reading could send money wrong: the CRC must be
  four upper-case hex digits and match, only printable ASCII is accepted, lengths must add
  up, and the key inside must already be in DICT form. Dynamic codes (26-25, a URL) are
  refused: there is no key to charge.
"""

from __future__ import annotations

import binascii
import enum
import re
import unicodedata
from decimal import Decimal

import phonenumbers
from attrs import Converter, field, frozen
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from clientmgr.core.i18n import _
from clientmgr.errors import InvalidBRCodeError, InvalidInputError, InvalidMoneyError

__all__ = [
    "PixCharge",
    "PixKeyKind",
    "build_brcode",
    "crc16",
    "normalize_pix_key",
    "parse_brcode",
    "pix_key_kind",
]

GUI = "br.gov.bcb.pix"
NO_TXID = "***"
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
MAX_AMOUNT = Decimal("9999999999.99")  # field 54 holds at most 13 characters
MAX_TEMPLATE = 99  # a two-digit length field cannot say more
MAX_CODE = 512  # EMV QRCPS upper bound for a whole payload
MAX_EMAIL = 77  # DICT limit for e-mail keys

_CENT = Decimal("0.01")
_KEY_EXAMPLE = _("123.456.789-09, (11) 98888-7777, nome@email.com ou a chave aleatória")
_NAME_EXAMPLE = "Maria Silva"
_CITY_EXAMPLE = "Sao Paulo"
_TXID_EXAMPLE = "PEDIDO123"

_EVP = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The DICT pattern for e-mail keys, plus a dot in the domain so "nome@gmailcom" is caught.
_EMAIL = re.compile(
    r"[a-z0-9.!#$&'*+/=?^_`{|}~-]+"
    r"@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
_PHONE_CHARS = re.compile(r"\+?[0-9()\-.\s]+")
_CPF = re.compile(r"[0-9]{11}")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_TXID = re.compile(r"[A-Za-z0-9]{1,25}")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_CRC = re.compile(r"[0-9A-F]{4}")
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class PixKeyKind(enum.StrEnum):
    """The five kinds of key the DICT knows; the bot names the kind back to the seller."""

    CPF = "cpf"
    CNPJ = "cnpj"
    PHONE = "telefone"
    EMAIL = "email"
    EVP = "aleatoria"


# --- keys -------------------------------------------------------------------------------


def normalize_pix_key(raw: str) -> str:
    """Return the key as the DICT stores it, or raise InvalidInputError saying what is wrong."""
    return _classify_key(raw)[1]


def pix_key_kind(raw: str) -> PixKeyKind:
    """Which kind of key ``raw`` is (after the same normalisation as ``normalize_pix_key``)."""
    return _classify_key(raw)[0]


def _key_error(why: str) -> InvalidInputError:
    return InvalidInputError(_("Chave PIX inválida: {why}").format(why=why), _KEY_EXAMPLE)


def _classify_key(raw: str) -> tuple[PixKeyKind, str]:
    text = raw.strip()
    if not text:
        raise _key_error(_("a chave está vazia."))
    if len(text) > 100:
        raise _key_error(_("texto comprido demais para ser uma chave."))
    if "@" in text:
        return PixKeyKind.EMAIL, _email_key(text)
    if _EVP.fullmatch(text.lower()):
        return PixKeyKind.EVP, text.lower()
    if text.startswith("+") or any(ch in text for ch in "() "):
        return PixKeyKind.PHONE, _phone_key(text)
    compact = re.sub(r"[.\-/]", "", text).upper()
    if _CPF.fullmatch(compact):
        if not _cpf_ok(compact):
            raise _key_error(
                _(
                    "CPF com dígito verificador errado. Se for um celular, escreva com o DDD "
                    "entre parênteses: (11) 98888-7777."
                )
            )
        return PixKeyKind.CPF, compact
    if _CNPJ.fullmatch(compact):
        if not _cnpj_ok(compact):
            raise _key_error(_("CNPJ com dígito verificador errado."))
        return PixKeyKind.CNPJ, compact
    raise _key_error(_("não parece CPF, CNPJ, celular, e-mail nem chave aleatória."))


def _email_key(text: str) -> str:
    email = text.lower()
    if len(email) > MAX_EMAIL:
        raise _key_error(
            _("e-mail comprido demais (máximo {max} caracteres).").format(max=MAX_EMAIL)
        )
    if not _EMAIL.fullmatch(email):
        raise _key_error(_("e-mail com formato errado."))
    return email


def _phone_key(text: str) -> str:
    if not _PHONE_CHARS.fullmatch(text):
        raise _key_error(_("celular com caracteres que não são números."))
    try:
        number = phonenumbers.parse(text, "BR")
    except NumberParseException:
        raise _key_error(_("celular com formato errado; escreva com DDD.")) from None
    if number.country_code != 55:
        raise _key_error(_("a chave de celular precisa ser um número do Brasil (+55)."))
    if not phonenumbers.is_valid_number(number):
        raise _key_error(_("celular inexistente; confira o DDD e o 9 da frente."))
    if phonenumbers.number_type(number) not in _MOBILE:
        raise _key_error(_("só celular pode ser chave PIX, não telefone fixo."))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _cpf_ok(digits: str) -> bool:
    if len(set(digits)) == 1:  # 000.000.000-00 and friends pass the arithmetic, not the Receita
        return False
    for size in (9, 10):
        total = sum(int(digits[i]) * (size + 1 - i) for i in range(size))
        if (total * 10) % 11 % 10 != int(digits[size]):
            return False
    return True


def _cnpj_check_digit(body: str) -> str:
    # Receita's rule, also for the alphanumeric CNPJ (2026): a character is worth ord(c) - 48,
    # weights 2..9 repeat from the right.
    total = sum((ord(ch) - 48) * (2 + i % 8) for i, ch in enumerate(reversed(body)))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


def _cnpj_ok(value: str) -> bool:
    if len(set(value)) == 1:
        return False
    first = _cnpj_check_digit(value[:12])
    second = _cnpj_check_digit(value[:12] + first)
    return value[12:] == first + second


# --- text fields --------------------------------------------------------------------------


def _ascii_text(text: str) -> str:
    """Accents off (NFKD), only printable ASCII kept, whitespace runs turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch if " " <= ch <= "~" else (" " if ch.isspace() else "") for ch in decomposed)
    return " ".join(kept.split())


def _fit(text: str, limit: int) -> str:
    return _ascii_text(text)[:limit].rstrip()


def _name(value: str) -> str:
    name = _fit(value, MAX_NAME)
    if not name:
        raise InvalidInputError(
            _("O nome do recebedor do PIX está vazio (acentos e emojis não contam)."), _NAME_EXAMPLE
        )
    return name


def _city(value: str) -> str:
    city = _fit(value, MAX_CITY)
    if not city:
        raise InvalidInputError(
            _("A cidade do recebedor do PIX está vazia (acentos e emojis não contam)."),
            _CITY_EXAMPLE,
        )
    return city


def _amount(value: Decimal | int | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"amount must be Decimal, int or None, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidMoneyError(_("O valor do PIX precisa ser um número."))
    if amount <= 0:
        raise InvalidMoneyError(_("O valor do PIX precisa ser maior que zero."))
    if amount > MAX_AMOUNT:
        raise InvalidMoneyError(_("O valor do PIX é alto demais (máximo 9.999.999.999,99)."))
    cents = amount.quantize(_CENT)
    if cents != amount:
        raise InvalidMoneyError(_("O valor do PIX pode ter no máximo duas casas decimais."))
    return cents


def _txid(value: str | None) -> str:
    if value is None or value in ("", NO_TXID):
        return NO_TXID
    if len(value) > MAX_TXID:
        raise InvalidInputError(
            _("O identificador do PIX (txid) pode ter no máximo {max} caracteres.").format(
                max=MAX_TXID
            ),
            _TXID_EXAMPLE,
        )
    if not _TXID.fullmatch(value):
        raise InvalidInputError(
            _(
                "O identificador do PIX (txid) só pode ter letras e números, "
                "sem espaços, acentos ou símbolos."
            ),
            _TXID_EXAMPLE,
        )
    return value


def _description(value: str | None, charge: PixCharge) -> str | None:
    if value is None:
        return None
    room = MAX_TEMPLATE - len(_merchant_account(charge.key, None)) - 4
    text = _fit(value, max(room, 0))
    return text or None


# --- the charge ---------------------------------------------------------------------------


@frozen
class PixCharge:
    """What a static BR Code says: pay ``amount`` (or any amount) to ``key``.

    Every field is normalised on the way in (see the module docstring), so two charges that
    produce the same BR Code compare equal, and ``parse_brcode(build_brcode(c)) == c``.
    """

    key: str = field(converter=normalize_pix_key)
    name: str = field(converter=_name)
    city: str = field(converter=_city)
    amount: Decimal | None = field(default=None, converter=_amount)
    txid: str = field(default=NO_TXID, converter=_txid)
    description: str | None = field(
        default=None, converter=Converter(_description, takes_self=True)
    )


# --- building -----------------------------------------------------------------------------


def crc16(payload: str) -> str:
    """CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF) as four upper-case hex digits."""
    return f"{binascii.crc_hqx(payload.encode('utf-8'), 0xFFFF):04X}"


def _tlv(tag: str, value: str) -> str:
    if not 0 < len(value) <= MAX_TEMPLATE:  # the converters keep this from happening
        raise ValueError(f"field {tag} has {len(value)} characters")
    return f"{tag}{len(value):02d}{value}"


def _merchant_account(key: str, description: str | None) -> str:
    value = _tlv("00", GUI) + _tlv("01", key)
    if description:
        value += _tlv("02", description)
    return value


def build_brcode(charge: PixCharge) -> str:
    """The "copia e cola" text for ``charge``; the same charge always gives the same text."""
    fields = [
        _tlv("00", "01"),
        _tlv("26", _merchant_account(charge.key, charge.description)),
        _tlv("52", "0000"),
        _tlv("53", "986"),
    ]
    if charge.amount is not None:
        fields.append(_tlv("54", f"{charge.amount:.2f}"))
    fields += [
        _tlv("58", "BR"),
        _tlv("59", charge.name),
        _tlv("60", charge.city),
        _tlv("62", _tlv("05", charge.txid)),
    ]
    payload = "".join(fields) + "6304"
    return payload + crc16(payload)


# --- parsing ------------------------------------------------------------------------------


def _bad(why: str) -> InvalidBRCodeError:
    return InvalidBRCodeError(_("BR Code inválido: {why}").format(why=why))


def _walk(payload: str, where: str) -> dict[str, str]:
    """Split ``payload`` into ID → value, refusing anything whose lengths do not add up."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(payload):
        head = payload[pos : pos + 4]
        if len(head) < 4 or not (head.isascii() and head.isdigit()):
            raise _bad(
                _("estrutura quebrada {where} (posição {pos}).").format(where=where, pos=pos)
            )
        tag, size = head[:2], int(head[2:])
        value = payload[pos + 4 : pos + 4 + size]
        if size == 0:
            raise _bad(_("o campo {tag} {where} está vazio.").format(tag=tag, where=where))
        if len(value) != size:
            raise _bad(
                _("o campo {tag} {where} termina antes do tamanho que declara.").format(
                    tag=tag, where=where
                )
            )
        if tag in fields:
            raise _bad(_("o campo {tag} aparece duas vezes {where}.").format(tag=tag, where=where))
        fields[tag] = value
        pos += 4 + size
    return fields


def _check_envelope(code: str) -> str:
    if not isinstance(code, str):
        raise TypeError(f"code must be str, not {type(code).__name__}")
    text = code.strip()
    if not text:
        raise _bad(_("o código está vazio."))
    if len(text) > MAX_CODE:
        raise _bad(_("comprido demais (máximo {max} caracteres).").format(max=MAX_CODE))
    if not all(" " <= ch <= "~" for ch in text):
        raise _bad(
            _("tem caracteres que não podem estar num BR Code (acentos, emojis ou quebras).")
        )
    if len(text) < 8 or text[-8:-4] != "6304":
        raise _bad(_("falta o CRC no final; copie o código inteiro."))
    if not _CRC.fullmatch(text[-4:]):
        raise _bad(_("o CRC no final não são quatro dígitos hexadecimais maiúsculos."))
    expected = crc16(text[:-4])
    if text[-4:] != expected:
        raise _bad(
            _(
                "o CRC não confere (esperado {expected}, veio {got}); "
                "o código foi alterado ou copiado pela metade."
            ).format(expected=expected, got=text[-4:])
        )
    return text


def _pix_account(fields: dict[str, str]) -> dict[str, str]:
    """The merchant account template (IDs 26-51) whose GUI is the PIX one."""
    for tag in (f"{n:02d}" for n in range(26, 52)):
        if tag not in fields:
            continue
        try:
            sub = _walk(fields[tag], _("no campo {tag}").format(tag=tag))
        except InvalidBRCodeError:
            continue  # another scheme's template: not ours to judge
        if sub.get("00", "").lower() == GUI:
            return sub
    raise _bad(_("não é um PIX (falta o identificador br.gov.bcb.pix)."))


def _require(fields: dict[str, str], tag: str, meaning: str) -> str:
    if tag not in fields:
        raise _bad(_("falta o campo {tag} ({meaning}).").format(tag=tag, meaning=meaning))
    return fields[tag]


def parse_brcode(code: str) -> PixCharge:
    """Read a static BR Code back into a PixCharge, or raise InvalidBRCodeError saying why.

    Surrounding whitespace (a pasted line break) is ignored; anything else out of place is
    an error, because a code we half-understand could send money to the wrong place.
    """
    text = _check_envelope(code)
    fields = _walk(text, _("no código"))
    tags = list(fields)
    if tags[0] != "00" or fields["00"] != "01":
        raise _bad(_("não começa com o indicador de formato 000201."))
    if tags[-1] != "63":
        raise _bad(_("o CRC (campo 63) precisa ser o último campo."))
    if fields.get("01", "11") not in ("11", "12"):
        raise _bad(_("método de iniciação (campo 01) desconhecido."))

    account = _pix_account(fields)
    if "25" in account:
        raise _bad(_("é um BR Code dinâmico (com link); aqui só vale PIX estático com chave."))
    key = _require(account, "01", _("chave PIX"))

    mcc = _require(fields, "52", _("categoria do recebedor"))
    if not (len(mcc) == 4 and mcc.isdigit()):
        raise _bad(_("a categoria do recebedor (campo 52) precisa ter 4 dígitos."))
    if _require(fields, "53", _("moeda")) != "986":
        raise _bad(_("a moeda (campo 53) não é o real (986)."))
    if _require(fields, "58", _("país")) != "BR":
        raise _bad(_("o país (campo 58) não é BR."))
    name = _require(fields, "59", _("nome do recebedor"))
    city = _require(fields, "60", _("cidade do recebedor"))
    if len(name) > MAX_NAME:
        raise _bad(_("o nome do recebedor passa de {max} caracteres.").format(max=MAX_NAME))
    if len(city) > MAX_CITY:
        raise _bad(_("a cidade do recebedor passa de {max} caracteres.").format(max=MAX_CITY))

    amount = None
    if "54" in fields:
        if len(fields["54"]) > 13 or not _AMOUNT.fullmatch(fields["54"]):
            raise _bad(_("o valor (campo 54) não está no formato 123.45."))
        amount = Decimal(fields["54"])

    txid = NO_TXID
    if "62" in fields:
        txid = _walk(fields["62"], _("no campo {tag}").format(tag="62")).get("05", NO_TXID)
        if txid != NO_TXID and not _TXID.fullmatch(txid):
            raise _bad(_("o identificador (txid) precisa ter até 25 letras e números."))

    try:
        if normalize_pix_key(key).lower() != key.lower():
            raise _bad(_("a chave PIX dentro do código não está no formato do DICT."))
        return PixCharge(
            key=key,
            name=name,
            city=city,
            amount=amount,
            txid=txid,
            description=account.get("02"),
        )
    except InvalidBRCodeError:
        raise
    except InvalidInputError as exc:
        raise _bad(exc.reason[0].lower() + exc.reason[1:]) from exc
