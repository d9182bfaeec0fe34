"""WhatsApp through the Baileys sidecar (``baileys/``): the HTTP adapter and its circuit breaker."""

from __future__ import annotations

from clientmgr.adapters.whatsapp.breaker import BreakerState, SidecarBreaker
from clientmgr.adapters.whatsapp.gateway import (
    DEFAULT_SIDECAR_URL,
    DEFAULT_TIMEOUT,
    BaileysWhatsAppGateway,
)

__all__ = [
    "DEFAULT_SIDECAR_URL",
    "DEFAULT_TIMEOUT",
    "BaileysWhatsAppGateway",
    "BreakerState",
    "SidecarBreaker",
]
