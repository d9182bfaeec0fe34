"""loguru set-up: JSON lines in production, readable text in a terminal, secrets masked."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from loguru import logger

from clientmgr.core.correlation import current_correlation_id

if TYPE_CHECKING:
    from loguru import Record

__all__ = ["configure_logging", "mask"]

_BOT_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
_BEARER = re.compile(r"(?i)(bearer\s+|token[\"'=:\s]+)[A-Za-z0-9._~+/=-]{8,}")
_PHONE = re.compile(r"\+?\b55\d{2}(\d{4,5})(\d{4})\b")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_CPF = re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b")


def mask(text: str) -> str:
    """Hide bot tokens, bearer tokens, phone numbers, e-mail and CPF-like PIX keys."""
    text = _BOT_TOKEN.sub("<bot-token>", text)
    text = _BEARER.sub(lambda m: m.group(1) + "***", text)
    text = _PHONE.sub(lambda m: "+55******" + m.group(2), text)
    text = _EMAIL.sub(lambda m: m.group(1) + "***@" + m.group(2), text)
    return _CPF.sub("***.***.***-**", text)


def _patch(record: Record) -> None:
    record["message"] = mask(record["message"])
    record["extra"].setdefault("correlation_id", current_correlation_id() or "-")


def configure_logging(level: str = "INFO", log_format: str = "auto") -> None:
    """One sink on stderr; ``auto`` writes JSON unless stderr is a terminal."""
    serialize = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    logger.remove()
    logger.configure(patcher=_patch)
    logger.add(
        sys.stderr,
        level=level,
        serialize=serialize,
        format="{time:HH:mm:ss} {level: <7} [{extra[correlation_id]}] {name}: {message}",
    )
