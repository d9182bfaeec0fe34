"""Settings read once from the environment at start, validated with messages a person can act on."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from attrs import frozen

from clientmgr.adapters.sql.urls import DEFAULT_DATABASE_URL
from clientmgr.errors import ConfigError

__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_TELEGRAM_API_URL", "Settings"]

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"}
_LOG_FORMATS = {"auto", "json", "text"}


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(
                f"ADMIN_TELEGRAM_IDS has {part!r}, which is not a Telegram user id: use numbers "
                "separated by commas, e.g. 123456789,987654321 (ask @userinfobot for yours)."
            )
        ids.add(int(part))
    return frozenset(ids)


@frozen
class Settings:
    """Every environment variable clientmgr reads (the README lists them with examples)."""

    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"
    log_format: str = "auto"
    telegram_bot_token: str = ""
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    admin_telegram_ids: frozenset[int] = frozenset()
    callback_secret: str = ""
    port: int = 8080
    sidecar_url: str = ""
    """The Baileys sidecar, e.g. http://127.0.0.1:3000; empty: WhatsApp on the in-memory fake."""
    sidecar_token: str = ""
    sidecar_events_secret: str = ""
    """Key of the HMAC the sidecar signs its events with (its own SIDECAR_EVENTS_SECRET)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        log_level = env.get("LOG_LEVEL", "INFO").strip().upper()
        if log_level not in _LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL={log_level!r} is not a level: use one of {sorted(_LOG_LEVELS)}."
            )
        log_format = env.get("LOG_FORMAT", "auto").strip().lower()
        if log_format not in _LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT={log_format!r} is not known: use auto, json or text.")
        url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
        if "://" not in url:
            raise ConfigError(
                f"DATABASE_URL={url!r} is not a URL: use postgresql://user:pass@host/db "
                "(as Railway gives it) or sqlite:///path/to/file.db."
            )
        api_url = env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_TELEGRAM_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"TELEGRAM_API_URL={api_url!r} must start with http:// or https:// "
                f"(default {DEFAULT_TELEGRAM_API_URL})."
            )
        webhook = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
        if webhook and not webhook.startswith("https://") and "127.0.0.1" not in webhook:
            raise ConfigError(
                f"TELEGRAM_WEBHOOK_URL={webhook!r} must be an https:// address Telegram can "
                "reach, e.g. https://your-app.up.railway.app/telegram."
            )
        port_raw = env.get("PORT", "8080").strip() or "8080"
        if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
            raise ConfigError(f"PORT={port_raw!r} is not a TCP port number.")
        sidecar_url = env.get("SIDECAR_URL", "").strip().rstrip("/")
        sidecar_token = env.get("SIDECAR_TOKEN", "").strip()
        if sidecar_url and not sidecar_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"SIDECAR_URL={sidecar_url!r} must start with http:// or https://, "
                "e.g. http://127.0.0.1:3000 (the Baileys sidecar)."
            )
        if sidecar_url and not sidecar_token:
            raise ConfigError(
                "SIDECAR_TOKEN is missing: set the same value the sidecar was started with."
            )
        return cls(
            sidecar_url=sidecar_url,
            sidecar_token=sidecar_token,
            sidecar_events_secret=env.get("SIDECAR_EVENTS_SECRET", "").strip(),
            database_url=url,
            log_level=log_level,
            log_format=log_format,
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_url=api_url.rstrip("/"),
            telegram_webhook_url=webhook,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            admin_telegram_ids=_admin_ids(env.get("ADMIN_TELEGRAM_IDS", "")),
            callback_secret=env.get("CALLBACK_SECRET", "").strip(),
            port=int(port_raw),
        )

    def require_bot_token(self) -> str:
        """The token, or a ConfigError that says where to get one."""
        token = self.telegram_bot_token
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is missing: get one from @BotFather.")
        if ":" not in token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (123456:ABC-...): "
                "copy it again from @BotFather."
            )
        return token

    def callback_key(self) -> bytes:
        """Key that signs inline buttons: CALLBACK_SECRET, or one derived from the bot token."""
        seed = self.callback_secret or f"clientmgr-buttons:{self.telegram_bot_token}"
        return hashlib.sha256(seed.encode()).digest()
