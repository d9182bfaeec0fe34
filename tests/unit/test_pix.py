"""Static PIX BR Code: published examples, round trips, tampering, bad input, a second parser.

The second parser is Stark Bank's ``starkbank-brcode`` (a test-only dependency): it was
written by a PIX participant bank without our code in mind, so agreeing with it is evidence
that our codes are read the same way by the payer's bank, not just by ourselves.
"""

from __future__ import annotations

import string
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clientmgr.core.pix import (
    MAX_AMOUNT,
    PixCharge,
    PixKeyKind,
    build_brcode,
    crc16,
    normalize_pix_key,
    parse_brcode,
    pix_key_kind,
)
from clientmgr.errors import InvalidBRCodeError, InvalidInputError, InvalidMoneyError

# phonenumbers loads its metadata lazily; the first example may be slow.
SLOW_OK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- published examples --------------------------------------------------------------------
# Every CRC below was recomputed independently (binascii.crc_hqx) before being written here.

# Banco Central, "Manual de Padrões para Iniciação do Pix", static example.
BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
# Banco Central manual, dynamic example (a URL instead of a key): valid, but not static.
BCB_DYNAMIC = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4"
)
# Widely circulated variants of the same example: upper-case GUI, an amount, a phone key.
WITH_AMOUNT = (
    "00020126580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-426655440000"
    "52040000530398654041.005802BR5913Fulano de Tal6008BRASILIA62070503***630451B8"
)
PHONE_KEY = (
    "00020126360014BR.GOV.BCB.PIX0114+5511999999999"
    "5204000053039865802BR5913FULANO DE TAL6008BRASILIA62070503***6304C23A"
)
EVP = "123e4567-e12b-12d1-a456-426655440000"


def test_crc16_standard_check_value():
    # The catalogue check value of CRC-16/CCITT-FALSE.
    assert crc16("123456789") == "29B1"


def test_crc16_of_the_bcb_example():
    assert crc16(BCB_STATIC[:-4]) == "1D3D"


def test_build_reproduces_the_bcb_static_example_exactly():
    charge = PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA")
    assert build_brcode(charge) == BCB_STATIC


def test_parse_the_bcb_static_example():
    assert parse_brcode(BCB_STATIC) == PixCharge(
        key=EVP, name="Fulano de Tal", city="BRASILIA", amount=None, txid="***"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            WITH_AMOUNT,
            PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA", amount=Decimal("1.00")),
        ),
        (PHONE_KEY, PixCharge(key="+5511999999999", name="FULANO DE TAL", city="BRASILIA")),
    ],
)
def test_parse_published_variants(code, expected):
    charge = parse_brcode(code)
    assert charge == expected
    # Rebuilding differs only in the GUI's case, so the rest must be identical.
    rebuilt = build_brcode(charge)
    assert rebuilt[:-4] == code[:-4].replace("BR.GOV.BCB.PIX", "br.gov.bcb.pix")


def test_bcb_dynamic_example_is_a_valid_code_but_refused_as_not_static():
    assert crc16(BCB_DYNAMIC[:-4]) == BCB_DYNAMIC[-4:]
    with pytest.raises(InvalidBRCodeError, match="dinâmico"):
        parse_brcode(BCB_DYNAMIC)


def test_build_example_with_everything():
    charge = PixCharge(
        key="123.456.789-09",
        name="Padaria São João",
        city="Ribeirão Preto",
        amount=Decimal("35.9"),
        txid="MENSAL2026",
        description="Plano família",
    )
    code = build_brcode(charge)
    assert code == (
        "00020126500014br.gov.bcb.pix0111123456789090213Plano familia"
        "520400005303986540535.905802BR5916Padaria Sao Joao6014Ribeirao Preto"
        "62140510MENSAL2026" + "6304" + crc16(code[:-4])
    )
    assert parse_brcode(code) == charge


# --- a code builder for tests: any fields, correct CRC ------------------------------------


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def seal(body: str) -> str:
    return body + "6304" + crc16(body + "6304")


ACCOUNT = tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", EVP))
TAIL = tlv("58", "BR") + tlv("59", "Fulano de Tal") + tlv("60", "BRASILIA")


def code_with(
    *,
    head: str = "000201",
    account: str = ACCOUNT,
    mcc: str = "52040000",
    currency: str = "5303986",
    amount: str = "",
    tail: str = TAIL,
    extra: str = tlv("62", tlv("05", "***")),
) -> str:
    return seal(head + account + mcc + currency + amount + tail + extra)


def test_code_with_defaults_is_the_bcb_example():
    assert code_with() == BCB_STATIC


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (code_with(head="000201010211"), PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA")),
        (code_with(head="000201010212"), PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA")),
        (code_with(extra=""), PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA")),
        (
            code_with(extra=tlv("62", tlv("05", "abc123")) + tlv("80", tlv("00", "x.y"))),
            PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA", txid="abc123"),
        ),
        (
            code_with(mcc="52045812", amount=tlv("54", "10.5")),
            PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA", amount=Decimal("10.50")),
        ),
        (
            code_with(tail=TAIL + tlv("61", "70000000")),
            PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA"),
        ),
        (
            # PIX in template 27, another scheme's template in 26.
            code_with(account=tlv("26", tlv("00", "com.example")) + "27" + ACCOUNT[2:]),
            PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA"),
        ),
        ("  \n" + BCB_STATIC + "\r\n", PixCharge(key=EVP, name="Fulano de Tal", city="BRASILIA")),
    ],
)
def test_parse_tolerates_what_the_spec_allows(code, expected):
    assert parse_brcode(code) == expected


# --- hypothesis: round trips --------------------------------------------------------------


def _dv11(digits: str, weights: list[int]) -> str:
    rest = sum(w * (ord(c) - 48) for c, w in zip(digits, weights, strict=True)) % 11
    return "0" if rest < 2 else str(11 - rest)


def make_cpf(nine: str) -> str:
    first = _dv11(nine, list(range(10, 1, -1)))
    return nine + first + _dv11(nine + first, list(range(11, 1, -1)))


def make_cnpj(twelve: str) -> str:
    first = _dv11(twelve, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return twelve + first + _dv11(twelve + first, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])


DDDS = [11, 21, 31, 41, 47, 51, 61, 71, 81, 85, 91, 92, 98, 99]

cpfs = st.from_regex(r"[0-9]{9}", fullmatch=True).filter(lambda s: len(set(s)) > 1).map(make_cpf)
cnpjs = st.from_regex(r"[0-9A-Z]{12}", fullmatch=True).filter(lambda s: len(set(s)) > 1)
cnpjs = cnpjs.map(make_cnpj)
phones = st.builds(
    lambda ddd, rest: f"+55{ddd}9{rest}",
    st.sampled_from(DDDS),
    st.from_regex(r"[0-9]{8}", fullmatch=True),
)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,30}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True),
    st.sampled_from(["com", "com.br", "org", "net.br", "io"]),
)
evps = st.uuids().map(str)
canonical_keys = st.one_of(cpfs, cnpjs, phones, emails, evps)

# What a seller might type: accents, emoji, odd spacing, long names.
human_text = st.text(
    alphabet=st.sampled_from(
        list(string.ascii_letters + string.digits + " .,&'-")
        + list("áàâãéêíóôõúçÁÉÍÓÚÇñ")
        + [" ", "\t", "\n", "😀", "—", "ﬁ", "²", "\u00a0"]
    ),
    max_size=60,
).filter(lambda s: any(c.isascii() and c.isalnum() for c in s))

amounts = st.none() | st.decimals(
    min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2, allow_nan=False
)
txids = st.none() | st.just("***") | st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True)
descriptions = st.none() | human_text

charges = st.builds(
    PixCharge,
    key=canonical_keys,
    name=human_text,
    city=human_text,
    amount=amounts,
    txid=txids,
    description=descriptions,
)


@SLOW_OK
@given(charges)
def test_round_trip(charge):
    code = build_brcode(charge)
    assert parse_brcode(code) == charge
    assert code.startswith("000201")
    assert code[-8:-4] == "6304"
    assert crc16(code[:-4]) == code[-4:]
    assert len(code) <= 512
    assert code.isascii()


@SLOW_OK
@given(charges)
def test_normalisation_is_idempotent(charge):
    assert PixCharge(**attrs.asdict(charge)) == charge


@SLOW_OK
@given(charges, st.data())
def test_changing_any_one_character_is_detected(charge, data):
    code = build_brcode(charge)
    pos = data.draw(st.integers(0, len(code) - 1), label="position")
    new = data.draw(
        st.characters(codec="utf-8").filter(lambda c: c != code[pos]), label="replacement"
    )
    tampered = code[:pos] + new + code[pos + 1 :]
    assume(tampered.strip() != code)  # turning the edge into whitespace is just padding
    with pytest.raises(InvalidBRCodeError):
        parse_brcode(tampered)


@SLOW_OK
@given(charges, st.data())
def test_deleting_or_inserting_one_character_is_detected(charge, data):
    code = build_brcode(charge)
    pos = data.draw(st.integers(0, len(code) - 1), label="position")
    if data.draw(st.booleans(), label="delete"):
        tampered = code[:pos] + code[pos + 1 :]
    else:
        tampered = code[:pos] + data.draw(st.characters(codec="ascii")) + code[pos:]
    assume(tampered.strip() != code)
    with pytest.raises(InvalidBRCodeError):
        parse_brcode(tampered)


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "kind"),
    [
        ("123.456.789-09", "12345678909", PixKeyKind.CPF),
        ("12345678909", "12345678909", PixKeyKind.CPF),
        (" 529.982.247-25 ", "52998224725", PixKeyKind.CPF),
        ("11.222.333/0001-81", "11222333000181", PixKeyKind.CNPJ),
        ("11222333000181", "11222333000181", PixKeyKind.CNPJ),
        # Receita's published example of the alphanumeric CNPJ (2026).
        ("12.ABC.345/01DE-35", "12ABC34501DE35", PixKeyKind.CNPJ),
        ("12.abc.345/01de-35", "12ABC34501DE35", PixKeyKind.CNPJ),
        ("(11) 98888-7777", "+5511988887777", PixKeyKind.PHONE),
        ("11 98888-7777", "+5511988887777", PixKeyKind.PHONE),
        ("+55 11 9 8888-7777", "+5511988887777", PixKeyKind.PHONE),
        ("+5511988887777", "+5511988887777", PixKeyKind.PHONE),
        ("Fulano.Tal@Example.COM.br", "fulano.tal@example.com.br", PixKeyKind.EMAIL),
        (EVP.upper(), EVP, PixKeyKind.EVP),
        (EVP, EVP, PixKeyKind.EVP),
    ],
)
def test_keys_are_normalised(raw, key, kind):
    assert normalize_pix_key(raw) == key
    assert pix_key_kind(raw) is kind
    assert PixCharge(key=raw, name="A", city="B").key == key


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "vazia"),
        ("   ", "vazia"),
        ("123.456.789-00", "CPF com dígito verificador errado"),
        ("11988887777", "CPF com dígito verificador errado"),  # phones need +55 or (DDD)
        ("111.111.111-11", "CPF com dígito verificador errado"),
        ("11.222.333/0001-82", "CNPJ com dígito verificador errado"),
        ("12.ABC.345/01DE-36", "CNPJ com dígito verificador errado"),
        ("00.000.000/0000-00", "CNPJ com dígito verificador errado"),
        ("(11) 3333-4444", "só celular"),
        ("+1 650 253 0000", "+55"),
        ("(11) 8888-777", "celular"),
        ("(11) 98888-7777 ramal", "celular"),
        ("fulano@", "e-mail"),
        ("fulano@gmailcom", "e-mail"),
        ("ful ano@gmail.com", "e-mail"),
        ("fulânõ@gmail.com", "e-mail"),
        ("a" * 70 + "@gmail.com", "máximo 77"),
        ("123e4567-e12b-12d1-a456-42665544000", "não parece"),
        ("123e4567e12b12d1a456426655440000", "não parece"),
        ("1234", "não parece"),
        ("x" * 10_000, "comprido demais"),
    ],
)
def test_bad_keys_say_why_in_portuguese(raw, why):
    with pytest.raises(InvalidInputError, match=r"^Chave PIX inválida") as info:
        normalize_pix_key(raw)
    assert why in info.value.reason
    assert info.value.example


# --- other fields -------------------------------------------------------------------------


def test_name_and_city_lose_accents_and_are_truncated():
    charge = PixCharge(
        key=EVP, name="  Ótica & Relojoaria São Sebastião Ltda  ", city="São José dos Campos"
    )
    assert charge.name == "Otica & Relojoaria Sao Se"
    assert charge.city == "Sao Jose dos Ca"


def test_truncation_never_leaves_a_trailing_space():
    assert PixCharge(key=EVP, name="A" * 24 + " B", city="Rio de Janeiro X").name == "A" * 24


@pytest.mark.parametrize("bad", ["", "   ", "😀😀", "—", "\n\t"])
def test_empty_name_or_city_is_an_error(bad):
    with pytest.raises(InvalidInputError, match="nome do recebedor"):
        PixCharge(key=EVP, name=bad, city="BRASILIA")
    with pytest.raises(InvalidInputError, match="cidade do recebedor"):
        PixCharge(key=EVP, name="Fulano", city=bad)


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (Decimal(0), "maior que zero"),
        (Decimal("0.00"), "maior que zero"),
        (Decimal("-1"), "maior que zero"),
        (-5, "maior que zero"),
        (Decimal("0.001"), "duas casas"),
        (Decimal("35.905"), "duas casas"),
        (MAX_AMOUNT + Decimal("0.01"), "alto demais"),
        (10**10, "alto demais"),
        (Decimal("1E+30"), "alto demais"),
        (Decimal("NaN"), "número"),
        (Decimal("Infinity"), "número"),
    ],
)
def test_bad_amounts(amount, why):
    with pytest.raises(InvalidMoneyError, match=why):
        PixCharge(key=EVP, name="A", city="B", amount=amount)


def test_amount_is_kept_in_cents():
    assert PixCharge(key=EVP, name="A", city="B", amount=20).amount == Decimal("20.00")
    charge = PixCharge(key=EVP, name="A", city="B", amount=MAX_AMOUNT)
    assert "54139999999999.99" in build_brcode(charge)


@pytest.mark.parametrize("amount", [1.5, "10.00", True])
def test_amount_must_be_a_decimal(amount):
    with pytest.raises(TypeError):
        PixCharge(key=EVP, name="A", city="B", amount=amount)


@pytest.mark.parametrize(
    ("txid", "why"),
    [
        ("PEDIDO-123", "letras e números"),
        ("pedido 123", "letras e números"),
        ("pedidoçã", "letras e números"),
        ("**", "letras e números"),
        ("A" * 26, "no máximo 25"),
        ("A" * 10_000, "no máximo 25"),
    ],
)
def test_bad_txids(txid, why):
    with pytest.raises(InvalidInputError, match=why):
        PixCharge(key=EVP, name="A", city="B", txid=txid)


@pytest.mark.parametrize("txid", [None, "", "***"])
def test_no_txid_is_three_stars(txid):
    charge = PixCharge(key=EVP, name="A", city="B", txid=txid)
    assert charge.txid == "***"
    assert "62070503***" in build_brcode(charge)


def test_description_is_cut_to_keep_the_account_template_within_99():
    longest_email = "a" * 60 + "@example.com.br"  # 75 characters
    charge = PixCharge(key=longest_email, name="A", city="B", description="Mensalidade IPTV")
    assert charge.description is None  # 18 + 4 + 75 leaves no room for 4 + anything
    cpf = PixCharge(key="12345678909", name="A", city="B", description="x " * 100)
    assert len(cpf.description) <= 99 - 18 - 15 - 4
    assert parse_brcode(build_brcode(cpf)) == cpf


def test_blank_description_is_none():
    assert PixCharge(key=EVP, name="A", city="B", description=" 😀 ").description is None


# --- parse: bad codes ---------------------------------------------------------------------


def _flip_crc(code: str) -> str:
    last = code[-1]
    return code[:-1] + ("0" if last != "0" else "1")


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("", "vazio"),
        ("   ", "vazio"),
        ("0" * 10_000, "comprido demais"),
        (BCB_STATIC * 80, "comprido demais"),
        (BCB_STATIC[:-1], "CRC"),
        (BCB_STATIC[:60], "CRC"),
        (_flip_crc(BCB_STATIC), "CRC não confere"),
        (BCB_STATIC[:-4] + "1d3d", "maiúsculos"),
        (BCB_STATIC[:-4] + "XYZW", "maiúsculos"),
        (BCB_STATIC.replace("Fulano", "Fulanó"), "caracteres"),
        (BCB_STATIC.replace("Tal", "T\nl"), "caracteres"),
        (seal("000201" + "2X"), "estrutura quebrada"),
        (seal("000201" + "2699" + "0014br.gov.bcb.pix"), "termina antes"),
        (seal("0002010000"), "vazio"),
        (code_with(head="000202"), "000201"),
        (code_with(head="52040000000201", mcc=""), "000201"),
        (code_with(head="000201010213"), "método de iniciação"),
        (code_with(extra=tlv("62", tlv("05", "***")) + tlv("59", "Outro")), "duas vezes"),
        (code_with(account=""), "br.gov.bcb.pix"),
        (code_with(account=tlv("26", tlv("00", "com.example") + tlv("01", EVP))), "bcb.pix"),
        (code_with(account=tlv("26", tlv("00", "br.gov.bcb.pix"))), "chave PIX"),
        (code_with(mcc=""), "campo 52"),
        (code_with(mcc="5203000"), "4 dígitos"),
        (code_with(currency="5303840"), "986"),
        (code_with(currency=""), "campo 53"),
        (code_with(tail=tlv("58", "US") + TAIL[6:]), "BR"),
        (code_with(tail=tlv("58", "BR") + tlv("60", "BRASILIA")), "campo 59"),
        (code_with(tail=tlv("58", "BR") + tlv("59", "Fulano")), "campo 60"),
        (code_with(tail=tlv("58", "BR") + tlv("59", "F" * 26) + tlv("60", "X")), "25"),
        (code_with(tail=tlv("58", "BR") + tlv("59", "F") + tlv("60", "X" * 16)), "15"),
        (code_with(tail=tlv("58", "BR") + tlv("59", "  ") + tlv("60", "X")), "nome do recebedor"),
        (code_with(amount=tlv("54", "1,00")), "formato"),
        (code_with(amount=tlv("54", "1.001")), "formato"),
        (code_with(amount=tlv("54", "-1.00")), "formato"),
        (code_with(amount=tlv("54", "12345678901.00")), "formato"),
        (code_with(amount=tlv("54", "0.00")), "maior que zero"),
        (code_with(extra=tlv("62", tlv("05", "abc-1"))), "txid"),
        (code_with(extra=tlv("62", tlv("05", "A" * 26))), "txid"),
        (code_with(extra=tlv("62", "0599")), "campo 62"),
        (
            code_with(account=tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "123.456.789-09"))),
            "formato do DICT",
        ),
        (
            code_with(account=tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "12345678900"))),
            "CPF com dígito verificador errado",
        ),
        (
            code_with(
                account=tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "+55 11 98888-7777"))
            ),
            "formato do DICT",
        ),
    ],
)
def test_bad_codes_say_why(code, why):
    with pytest.raises(InvalidBRCodeError, match=r"^BR Code inválido") as info:
        parse_brcode(code)
    assert why in info.value.reason


def test_parse_needs_a_string():
    with pytest.raises(TypeError):
        parse_brcode(None)  # type: ignore[arg-type]


# --- an independent parser: Stark Bank's starkbank-brcode ---------------------------------

# A hard import on purpose: the dev extra pins starkbank-brcode, and a missing independent
# check must fail the suite, not quietly skip it.
from brcode import static as starkbank_static  # noqa: E402
from brcode.utils.brcodeId import jsonFromBrcode  # noqa: E402


def _starkbank_build(charge: PixCharge) -> str:
    data = {"key": charge.key, "name": charge.name, "city": charge.city, "txid": charge.txid}
    if charge.amount is not None:
        data["amount"] = int(charge.amount * 100)
    if charge.description:
        data["description"] = charge.description
    return starkbank_static.fromJson(data)


def test_starkbank_reads_the_bcb_example_like_we_do():
    fields = jsonFromBrcode(BCB_STATIC)
    assert fields["26"]["01"] == parse_brcode(BCB_STATIC).key


@SLOW_OK
@given(charges)
def test_starkbank_parses_our_codes(charge):
    code = build_brcode(charge)
    fields = jsonFromBrcode(code)  # checks the CRC and every length itself
    assert list(fields) == sorted(fields)
    assert fields["00"] == "01"
    assert fields["26"]["00"] == "br.gov.bcb.pix"
    assert fields["26"]["01"] == charge.key
    assert fields["26"].get("02") == charge.description
    assert fields["52"] == "0000"
    assert fields["53"] == "986"
    assert fields.get("54") == (None if charge.amount is None else f"{charge.amount:.2f}")
    assert fields["58"] == "BR"
    assert fields["59"] == charge.name
    assert fields["60"] == charge.city
    assert fields["62"] == {"05": charge.txid}
    assert fields["63"] == code[-4:]


@SLOW_OK
@given(charges)
def test_starkbank_generator_builds_the_same_text(charge):
    assert _starkbank_build(charge) == build_brcode(charge)
