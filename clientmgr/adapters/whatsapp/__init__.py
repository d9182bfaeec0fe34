"""WhatsApp through the Baileys sidecar (``baileys/``): the HTTP adapter, its circuit breaker,
and a helper that runs the sidecar as a child process (tests, ``clientmgr run``, playground).
"""

from __future__ import annotations

from clientmgr.adapters.whatsapp.breaker import BreakerState, SidecarBreaker
from clientmgr.adapters.whatsapp.gateway import (
    DEFAULT_SIDECAR_URL,
    DEFAULT_TIMEOUT,
    BaileysWhatsAppGateway,
)
from clientmgr.adapters.whatsapp.sidecar_process import SidecarProcess, SidecarStartError

__all__ = [
    "DEFAULT_SIDECAR_URL",
    "DEFAULT_TIMEOUT",
    "BaileysWhatsAppGateway",
    "BreakerState",
    "SidecarBreaker",
    "SidecarProcess",
    "SidecarStartError",
]
