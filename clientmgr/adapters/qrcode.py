"""Draw a PIX BR Code as a QR image (PNG for Telegram/WhatsApp, SVG for web pages).

It sits in adapters, not core, only because it needs ``segno``; the BR Code text itself is
built and checked in ``clientmgr.core.pix``.

Choices: error correction exactly M (survives ~15 % damage — a scratched screen, a crease —
while keeping modules big; not boosted, so the same text always gives the same image),
full-size QR (never Micro QR, which payer apps do not read), and a 4-module quiet zone (the
QR standard's minimum; cropping it breaks scanning).
The text is checked before drawing (printable ASCII, ≤ 512 characters, CRC matches) but not
parsed as a static code, so dynamic codes such as Mercado Pago's can be drawn too.
``qr_png`` draws any other short text (a WhatsApp login code) with the same choices.
"""

from __future__ import annotations

import io

import segno

from clientmgr.core.pix import MAX_CODE, crc16
from clientmgr.errors import InvalidBRCodeError

__all__ = ["MAX_QR_TEXT", "brcode_png", "brcode_svg", "qr_png"]

_BORDER = 4
MAX_QR_TEXT = 1000
"""The longest text ``qr_png`` draws: a WhatsApp login code is ~250 characters, and a QR
much denser than this no longer scans from a phone screen."""


def _check_scale(scale: int) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, not {scale!r}")


def _qr(code: str, scale: int) -> segno.QRCode:
    _check_scale(scale)
    if not code or len(code) > MAX_CODE or not all(" " <= ch <= "~" for ch in code):
        raise InvalidBRCodeError(
            "BR Code inválido: precisa ser texto simples de até 512 caracteres."
        )
    if len(code) < 8 or code[-8:-4] != "6304" or crc16(code[:-4]) != code[-4:]:
        raise InvalidBRCodeError("BR Code inválido: o CRC no final não confere.")
    return _symbol(code)


def _symbol(text: str) -> segno.QRCode:
    return segno.make(text, error="m", boost_error=False, micro=False)


def brcode_png(code: str, scale: int = 8) -> bytes:
    """PNG bytes of the QR for ``code``; ``scale`` is pixels per module (8 ≈ 450 px wide)."""
    out = io.BytesIO()
    _qr(code, scale).save(out, kind="png", scale=scale, border=_BORDER)
    return out.getvalue()


def brcode_svg(code: str, scale: int = 8) -> str:
    """A standalone SVG document of the QR for ``code`` (no XML declaration)."""
    out = io.BytesIO()
    _qr(code, scale).save(out, kind="svg", scale=scale, border=_BORDER, xmldecl=False)
    return out.getvalue().decode("utf-8")


def qr_png(text: str, scale: int = 8) -> bytes:
    """PNG bytes of the QR for any short ``text`` (a WhatsApp login code), drawn like a BR Code.

    Unlike ``brcode_png`` the text is not checked as a BR Code (a WhatsApp code has none of
    its structure); it only has to be non-empty and at most ``MAX_QR_TEXT`` characters.
    """
    _check_scale(scale)
    if not isinstance(text, str) or not text or len(text) > MAX_QR_TEXT:
        raise ValueError(f"a QR needs 1-{MAX_QR_TEXT} characters of text")
    out = io.BytesIO()
    _symbol(text).save(out, kind="png", scale=scale, border=_BORDER)
    return out.getvalue()
