"""``BaileysWhatsAppGateway``: the ``WhatsAppGateway`` port over the Baileys sidecar's HTTP API.

A thin translation of ``baileys/README.md``: one request per port call, the answers and
errors mapped onto the port's (``clientmgr/ports/whatsapp.py``):

===================================  =====================================================
sidecar answer                       raised
===================================  =====================================================
400, 405, 413, other 4xx             WhatsAppRequestError (a malformed call: a bug)
401                                  ConfigError (SIDECAR_TOKEN differs from the sidecar's)
404 ``unknown_session``              None from ``get_session``, nothing from ``logout``,
                                     WhatsAppSessionNotOpenError from sends, presences
                                     and lookups
409 ``session_not_open``             WhatsAppSessionNotOpenError (with the state)
422 ``not_on_whatsapp``              NotOnWhatsAppError (permanent)
502 ``send_failed``                  WhatsAppSendError (retry with the same key)
other 5xx, connection errors,        WhatsAppUnavailableError (transient; counted by the
timeouts                             circuit breaker)
===================================  =====================================================

Every request carries ``Authorization: Bearer <SIDECAR_TOKEN>`` and ``X-Request-Id`` = the
current correlation id (a fresh one when there is none), so the sidecar's log lines of a
call can be found from ours. Every request goes through ``SidecarBreaker``: while it is
open, calls fail at once with WhatsAppUnavailableError and nothing touches the network.

A read timeout on a send is ambiguous (the message may have gone out); it is reported as
WhatsAppUnavailableError all the same, since a retry with the same idempotency key is safe:
the sidecar answers the first message id without sending again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self

import httpx

from clientmgr.adapters.whatsapp.breaker import BreakerState, SidecarBreaker
from clientmgr.core.correlation import current_correlation_id
from clientmgr.errors import (
    ConfigError,
    NotOnWhatsAppError,
    WhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.whatsapp import SESSION_ID, Presence, WaLookup, WaSession, WaState

if TYPE_CHECKING:
    from clientmgr.config import Settings

__all__ = [
    "DEFAULT_SIDECAR_URL",
    "DEFAULT_TIMEOUT",
    "MAX_LOOKUP_PHONES",
    "BaileysWhatsAppGateway",
]

DEFAULT_SIDECAR_URL = "http://127.0.0.1:3000"
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=60.0, write=10.0, pool=5.0)
"""``read`` outlasts the sidecar's own limits (lookup 20 s + send 30 s), so a slow WhatsApp
comes back as the sidecar's ``502 send_failed`` rather than as our timeout."""
MAX_LOOKUP_PHONES = 50
"""The sidecar's limit per lookup request; longer lists are split."""

# Node closes idle keep-alive connections after 5 s: let ours go first, so a request is
# never written into a connection the sidecar is closing.
_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=4.0)
_NOT_OPEN_STATE = re.compile(r"\bis (\w+), not open\b")


class BaileysWhatsAppGateway:
    """Implements ``WhatsAppGateway`` with the sidecar at ``base_url`` (``SIDECAR_URL``).

    Owns an ``httpx.AsyncClient``: close it with ``aclose()`` (or ``async with``) at shutdown.
    ``transport`` replaces the network in tests (``httpx.MockTransport``); ``breaker``
    defaults to a ``SidecarBreaker()`` (5 failures in a row open it for 30 s).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SIDECAR_URL,
        token: str = "",
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        breaker: SidecarBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker or SidecarBreaker()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            limits=_LIMITS,
            transport=transport,
            trust_env=False,  # the sidecar is on loopback or a private network: no proxies
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Self:
        """The gateway for ``SIDECAR_URL`` / ``SIDECAR_TOKEN``."""
        return cls(settings.sidecar_url or DEFAULT_SIDECAR_URL, settings.sidecar_token, **options)

    @property
    def breaker_state(self) -> BreakerState:
        """``closed``, ``open`` or ``half-open`` (for the metrics)."""
        return self.breaker.state

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the port -------------------------------------------------------------------

    async def start_session(self, session_id: str) -> WaSession:
        response = await self._request("POST", session_id, "")
        if response.is_success:
            return self._session(response)
        self._raise_for(response, session_id)

    async def get_session(self, session_id: str) -> WaSession | None:
        response = await self._request("GET", session_id, "")
        if response.is_success:
            return self._session(response)
        if _is_unknown_session(response):
            return None
        self._raise_for(response, session_id)

    async def logout(self, session_id: str) -> None:
        response = await self._request("DELETE", session_id, "")
        if response.is_success or _is_unknown_session(response):
            return
        self._raise_for(response, session_id)

    async def send_text(self, session_id: str, to: str, text: str, idempotency_key: str) -> str:
        body = {"to": to, "text": text, "idempotency_key": idempotency_key}
        response = await self._request("POST", session_id, "/messages", body)
        if response.is_success:
            answer = self._json(response)
            message_id = answer.get("message_id") if isinstance(answer, dict) else None
            if not isinstance(message_id, str) or not message_id:
                raise self._unexpected(response, "a send answer without a message_id")
            return message_id
        self._raise_for(response, session_id, to=to)

    async def send_presence(self, session_id: str, to: str, presence: Presence) -> None:
        body = {"to": to, "state": str(presence)}
        response = await self._request("POST", session_id, "/presence", body)
        if not response.is_success:
            self._raise_for(response, session_id, to=to)

    async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
        _check_session_id(session_id)
        found: list[WaLookup] = []
        for start in range(0, len(phones), MAX_LOOKUP_PHONES):
            chunk = list(phones[start : start + MAX_LOOKUP_PHONES])
            response = await self._request("POST", session_id, "/lookup", {"phones": chunk})
            if not response.is_success:
                self._raise_for(response, session_id)
            found.extend(self._lookups(response, chunk))
        return found

    # -- HTTP -----------------------------------------------------------------------

    async def _request(
        self, method: str, session_id: str, action: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """One guarded round trip; transient failures become WhatsAppUnavailableError."""
        _check_session_id(session_id)
        path = f"/sessions/{session_id}{action}"
        headers = {"X-Request-Id": current_correlation_id() or uuid.uuid4().hex[:16]}
        with self.breaker.attempt():
            try:
                response = await self._client.request(method, path, json=body, headers=headers)
            except httpx.TimeoutException as exc:
                raise WhatsAppUnavailableError(
                    f"the WhatsApp sidecar at {self.base_url} did not answer {method} {path} "
                    f"in time ({type(exc).__name__})"
                ) from exc
            except httpx.TransportError as exc:
                raise WhatsAppUnavailableError(
                    f"cannot reach the WhatsApp sidecar at {self.base_url} (SIDECAR_URL): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if response.status_code >= 500 and _error_code(response) != "send_failed":
                raise WhatsAppUnavailableError(
                    f"the WhatsApp sidecar failed {method} {path}: "
                    f"{response.status_code} {_reason(response)}"
                )
        return response

    def _raise_for(self, response: httpx.Response, session_id: str, to: str = "") -> NoReturn:
        """Map an error answer (4xx, or 502 send_failed) onto the port's errors."""
        status, code, reason = response.status_code, _error_code(response), _reason(response)
        if status == 401:
            raise ConfigError(
                f"the WhatsApp sidecar at {self.base_url} refused our token: SIDECAR_TOKEN "
                "differs from the one the sidecar was started with (set the same value on both)."
            )
        if status == 404 and code == "unknown_session":
            raise WhatsAppSessionNotOpenError(session_id, None)
        if status == 409:
            state = _NOT_OPEN_STATE.search(reason)
            raise WhatsAppSessionNotOpenError(session_id, state[1] if state else None)
        if status == 422 and code == "not_on_whatsapp":
            raise NotOnWhatsAppError(to)
        if status == 502 and code == "send_failed":
            raise WhatsAppSendError(reason or "WhatsApp did not accept the message")
        if status == 404 and code != "unknown_session":
            raise WhatsAppRequestError(
                f"{self.base_url} has no route {response.request.method} "
                f"{response.request.url.path}: is SIDECAR_URL the clientmgr sidecar? ({reason})"
            )
        raise WhatsAppRequestError(
            f"the WhatsApp sidecar refused {response.request.method} "
            f"{response.request.url.path}: {status} {code or ''} {reason}".rstrip()
        )

    # -- answers --------------------------------------------------------------------

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._unexpected(response, "an answer that is not JSON") from None

    def _session(self, response: httpx.Response) -> WaSession:
        body = self._json(response)
        try:
            return WaSession(
                id=body["id"],
                state=WaState(body["state"]),
                qr=body.get("qr") or None,
                phone=_e164(body.get("phone")),
                reason=body.get("reason"),
                lid=body.get("lid"),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._unexpected(response, "a session it does not describe") from None

    def _lookups(self, response: httpx.Response, asked: list[str]) -> list[WaLookup]:
        body = self._json(response)
        if not isinstance(body, list) or len(body) != len(asked):
            raise self._unexpected(response, f"a lookup answer that is not {len(asked)} items")
        try:
            return [
                WaLookup(
                    phone,
                    bool(item["exists"]),
                    item.get("jid") if item["exists"] else None,
                    item.get("lid") if item["exists"] else None,
                )
                for phone, item in zip(asked, body, strict=True)
            ]
        except (KeyError, TypeError, AttributeError):
            raise self._unexpected(response, "a lookup item it does not describe") from None

    def _unexpected(self, response: httpx.Response, what: str) -> WhatsAppError:
        return WhatsAppError(
            f"{self.base_url} answered {response.request.method} {response.request.url.path} "
            f"with {what} ({response.status_code}): is SIDECAR_URL the clientmgr sidecar, "
            "and of the same version?"
        )


def _check_session_id(session_id: str) -> None:
    # Checked here too: an id with "/" or ".." would reach another route of the sidecar.
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        raise WhatsAppRequestError(f"invalid session id: {session_id!r}")


def _e164(phone: Any) -> str | None:
    """The sidecar's digits ("5511988887777") in E.164 ("+5511988887777")."""
    if not isinstance(phone, str) or not phone:
        return None
    return phone if phone.startswith("+") else f"+{phone}"


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx.Response) -> str | None:
    if response.is_success:
        return None
    code = _error_body(response).get("error")
    return code if isinstance(code, str) else None


def _reason(response: httpx.Response) -> str:
    reason = _error_body(response).get("reason")
    if isinstance(reason, str):
        return reason
    return response.reason_phrase or ""


def _is_unknown_session(response: httpx.Response) -> bool:
    return response.status_code == 404 and _error_code(response) == "unknown_session"
