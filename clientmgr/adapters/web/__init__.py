"""The web runner's HTTP side: a Starlette app for the sidecar's events, health and metrics."""

from __future__ import annotations

from clientmgr.adapters.web.app import EVENTS_PATH, WebDeps, create_app
from clientmgr.adapters.web.signatures import SIGNATURE_HEADER, sign_body, signature_matches

__all__ = [
    "EVENTS_PATH",
    "SIGNATURE_HEADER",
    "WebDeps",
    "create_app",
    "sign_body",
    "signature_matches",
]
