"""Draw a PIX BR Code as a QR image (PNG for Telegram/WhatsApp, SVG for web pages).

It sits in adapters, not core, only because it needs ``segno``; the BR Code text itself is
built and checked in ``clientmgr.core.pix``.

Choices: error correction exactly M (survives ~15 % damage — a scratched screen, a crease —
while keeping modules big; not boosted, so the same text always gives the same image),
full-size QR (never Micro QR, which payer apps do not read), and a 4-module quiet zone (the
QR standard's minimum; cropping it breaks scanning).
The text is checked before drawing (printable ASCII, ≤ 512 characters, CRC matches) but not
parsed as a static code, so dynamic codes such as Mercado Pago's can be drawn too.
"""

from __future__ import annotations

import io

import segno

from clientmgr.core.pix import MAX_CODE, crc16
from clientmgr.errors import InvalidBRCodeError

__all__ = ["brcode_png", "brcode_svg"]

_BORDER = 4


def _qr(code: str, scale: int) -> segno.QRCode:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, not {scale!r}")
    if not code or len(code) > MAX_CODE or not all(" " <= ch <= "~" for ch in code):
        raise InvalidBRCodeError(
            "BR Code inválido: precisa ser texto simples de até 512 caracteres."
        )
    if len(code) < 8 or code[-8:-4] != "6304" or crc16(code[:-4]) != code[-4:]:
        raise InvalidBRCodeError("BR Code inválido: o CRC no final não confere.")
    return segno.make(code, error="m", boost_error=False, micro=False)


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
