"""The BR Code QR image: a scanner must read back exactly the text we built.

Two independent readings: ``zbarimg`` (Debian package ``zbar-tools``), which decodes the PNG
the way a phone camera would, and a small PNG reader here that checks every pixel against
the module matrix segno says it encoded.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmgr.adapters.qrcode import brcode_png, brcode_svg
from clientmgr.core.pix import PixCharge, build_brcode
from clientmgr.errors import InvalidBRCodeError

BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BCB_DYNAMIC = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4"
)
BORDER = 4

ZBARIMG = shutil.which("zbarimg")


@pytest.fixture(autouse=True)
def _zbar_is_installed(request):
    """The decoder is a test dependency (scripts/test installs it): missing means failing."""
    if "zbar" in request.node.name and ZBARIMG is None:
        pytest.fail("zbarimg is missing: apt-get install -y zbar-tools (scripts/test does this)")


def zbar_decode(png: bytes, tmp_path: Path) -> str:
    image = tmp_path / "qr.png"
    image.write_bytes(png)
    done = subprocess.run(
        [ZBARIMG, "--raw", "--quiet", "-Sdisable", "-Sqrcode.enable", "-Sbinary", str(image)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode("utf-8").removesuffix("\n")


def read_png(data: bytes) -> tuple[int, int, list[list[int]]]:
    """Width, height and 0/1 pixels (1 = dark) of a 1-bit greyscale, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", data[pos + 8 + size : pos + 12 + size])[0]
        )
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    rows: list[list[int]] = []
    prev = bytearray(stride)
    for y in range(height):
        filt, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, up_left = prev[i], (prev[i - 1] if i else 0)
            if filt == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filt == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([1 - ((line[x // 8] >> (7 - x % 8)) & 1) for x in range(width)])
        prev = line
    return width, height, rows


def expected_pixels(code: str, scale: int) -> list[list[int]]:
    matrix = segno.make(code, error="m", boost_error=False, micro=False).matrix
    size = len(matrix) + 2 * BORDER
    modules = [[0] * size for _ in range(size)]
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            modules[r + BORDER][c + BORDER] = 1 if dark else 0
    return [
        [modules[y // scale][x // scale] for x in range(size * scale)] for y in range(size * scale)
    ]


@pytest.mark.parametrize("scale", [1, 3, 8])
def test_png_pixels_are_exactly_the_qr_modules(scale):
    png = brcode_png(BCB_STATIC, scale=scale)
    width, height, pixels = read_png(png)
    assert width == height
    assert pixels == expected_pixels(BCB_STATIC, scale)


def test_error_correction_is_m_and_not_micro():
    qr = segno.make(BCB_STATIC, error="m", boost_error=False, micro=False)
    assert qr.error == "M"
    assert not qr.is_micro
    _, _, pixels = read_png(brcode_png(BCB_STATIC, scale=1))
    assert len(pixels) == qr.symbol_size(scale=1, border=BORDER)[0]


def test_png_is_deterministic():
    assert brcode_png(BCB_STATIC) == brcode_png(BCB_STATIC)


@pytest.mark.parametrize("code", [BCB_STATIC, BCB_DYNAMIC])
def test_zbar_reads_back_the_same_text(code, tmp_path):
    assert zbar_decode(brcode_png(code), tmp_path) == code


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(
        ["12345678909", "+5511988887777", "fulano.tal@example.com.br", "12ABC34501DE35"]
    ),
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúç ", min_size=1, max_size=40).filter(
        str.strip
    ),
    cents=st.none() | st.integers(1, 999_999_999_999),
    txid=st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True),
)
def test_zbar_reads_generated_codes(key, name, cents, txid, tmp_path):
    amount = None if cents is None else Decimal(cents) / 100
    code = build_brcode(PixCharge(key=key, name=name, city="Sao Paulo", amount=amount, txid=txid))
    assert zbar_decode(brcode_png(code, scale=4), tmp_path) == code


def test_svg_is_a_well_formed_standalone_document():
    svg = brcode_svg(BCB_STATIC, scale=2)
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = segno.make(BCB_STATIC, error="m", boost_error=False).symbol_size(scale=2, border=BORDER)
    assert (int(root.get("width")), int(root.get("height"))) == size


@pytest.mark.parametrize(
    "code",
    [
        "",
        BCB_STATIC[:-1] + "E",  # CRC changed
        BCB_STATIC[:-4] + "1d3d",
        BCB_STATIC[:40],  # copied by half
        BCB_STATIC.replace("Fulano", "Fulanó"),
        "0" * 10_000,
    ],
)
def test_refuses_text_that_is_not_a_br_code(code):
    with pytest.raises(InvalidBRCodeError):
        brcode_png(code)
    with pytest.raises(InvalidBRCodeError):
        brcode_svg(code)


@pytest.mark.parametrize("scale", [0, -1, 1.5, True])
def test_scale_must_be_a_positive_int(scale):
    with pytest.raises(ValueError, match="scale"):
        brcode_png(BCB_STATIC, scale=scale)


# -- qr_png: any short text (WhatsApp login codes) --------------------------------------

WHATSAPP_LOGIN = (
    "2@q0PZ1vS9Q3xLr+7wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789/abcdEFGH==,"
    "lQ3zR6bq0nq8TkWq3mVb0L8s9QxFv2c7yJmGdPp1rWk=,u0mX4kQwQ8R2nT7yV3zA5bC9dE1fG6hJ8kL2mN4pQ0s=,"
    "9xZcVbNmAsDfGhJkLqWeRtYuIoP1234567890abcdef="
)


def test_qr_png_pixels_are_the_qr_modules():
    from clientmgr.adapters.qrcode import qr_png

    width, height, pixels = read_png(qr_png(WHATSAPP_LOGIN, scale=2))
    assert width == height
    assert pixels == expected_pixels(WHATSAPP_LOGIN, 2)
    assert qr_png(WHATSAPP_LOGIN) == qr_png(WHATSAPP_LOGIN)


def test_zbar_reads_back_a_whatsapp_login_code(tmp_path):
    from clientmgr.adapters.qrcode import qr_png

    assert zbar_decode(qr_png(WHATSAPP_LOGIN), tmp_path) == WHATSAPP_LOGIN


def test_qr_png_draws_a_br_code_like_brcode_png():
    from clientmgr.adapters.qrcode import qr_png

    assert qr_png(BCB_STATIC) == brcode_png(BCB_STATIC)


@pytest.mark.parametrize("text", ["", "x" * 1001, None, b"2@abc"])
def test_qr_png_refuses_empty_or_oversized_text(text):
    from clientmgr.adapters.qrcode import qr_png

    with pytest.raises(ValueError, match="characters"):
        qr_png(text)


@pytest.mark.parametrize("scale", [0, -1, 1.5, True])
def test_qr_png_scale_must_be_a_positive_int(scale):
    from clientmgr.adapters.qrcode import qr_png

    with pytest.raises(ValueError, match="scale"):
        qr_png(WHATSAPP_LOGIN, scale=scale)
