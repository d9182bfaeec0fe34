"""The web runner's Starlette app: sidecar events in, health and metrics out.

Routes:

- ``POST /events/whatsapp`` — an event from the Baileys sidecar (``baileys/README.md``,
  Events). The signature is checked on the raw body before anything is parsed. Answers:
  200 applied / unchanged / ignored (the sidecar stops retrying; an event for an unknown
  session, message or client is logged and dropped), 400 not an event, 401 bad or missing
  signature, 413 too large, 503 ``SIDECAR_EVENTS_SECRET`` unset or the seller's notice could
  not reach Telegram, 500 anything else; every non-2xx is retried by the sidecar, and
  applying an event twice is safe (``services.whatsapp_events``).
- ``GET /healthz`` — the process answers.
- ``GET /readyz`` — the database answers, its schema is at this code's head, and the
  sidecar's ``/health`` answers when a sidecar URL is configured; 503 naming what is not.
- ``GET /metrics`` — Prometheus text: outbox messages by status (queue depth, sent,
  failed), events received, the sidecar breaker's state when this process has one, and
  the process' CPU and memory (psutil), after the default registry's collectors.

Later work adds the Mercado Pago and Telegram webhooks here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import psutil
from attrs import define, field
from loguru import logger
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    generate_latest,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clientmgr.adapters.sql.engine import create_engine
from clientmgr.adapters.sql.migrate import ensure_schema_current
from clientmgr.adapters.web.signatures import SIGNATURE_HEADER, signature_matches
from clientmgr.core.correlation import new_correlation_id
from clientmgr.core.outbox import OutboxStatus
from clientmgr.errors import ClientmgrError
from clientmgr.ports.clock import Clock
from clientmgr.ports.notifier import SellerNotifier, SellerUnreachableError
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.ports.whatsapp_events import EventLookupsFactory
from clientmgr.services.whatsapp_events import (
    MalformedEventError,
    WhatsAppEvents,
    parse_event,
)

__all__ = ["EVENTS_PATH", "MAX_EVENT_BYTES", "WebDeps", "create_app"]

EVENTS_PATH = "/events/whatsapp"
MAX_EVENT_BYTES = 256 * 1024
"""Far above any event (the sidecar caps texts at 4 KiB); bigger bodies are refused unread."""
_WAITING = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
_WENT_OUT = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)
_BREAKER_STATES = ["closed", "open", "half-open"]
_EVENT_TYPES = frozenset({"ack", "message", "state", "qr"})


@define
class WebDeps:
    """What the app needs, built by the runner (or a test).

    ``database_url`` enables the schema check of ``/readyz`` (None for in-memory storage);
    ``sidecar_url`` its sidecar check. ``breaker_state`` gives the sidecar circuit breaker's
    state name (``closed`` / ``open`` / ``half-open``) when this process holds one.
    """

    uow_factory: UnitOfWorkFactory
    clock: Clock
    notifier: SellerNotifier
    lookups: EventLookupsFactory
    events_secret: str
    database_url: str | None = None
    sidecar_url: str | None = None
    breaker_state: Callable[[], str] | None = None
    check_timeout: float = 5.0
    sidecar_transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    """For tests: reach a fake sidecar without a socket."""


class _Metrics:
    """This app's own metrics, in a registry of its own (so each app instance has its own)."""

    def __init__(self, with_breaker: bool) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "clientmgr_sidecar_events",
            "Sidecar events received, by type and what became of them.",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "clientmgr_outbox_messages",
            "Outbox messages in each status, across every account.",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "clientmgr_outbox_queue_depth",
            "Messages waiting to be sent (queued or being sent).",
            registry=self.registry,
        )
        self.sent = Gauge(
            "clientmgr_outbox_sent_messages",
            "Messages WhatsApp accepted (sent, delivered or read).",
            registry=self.registry,
        )
        self.failed = Gauge(
            "clientmgr_outbox_failed_messages",
            "Messages that failed for good.",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "clientmgr_database_up",
            "1 when the last scrape could read the database.",
            registry=self.registry,
        )
        self.breaker = (
            Enum(
                "clientmgr_whatsapp_breaker",
                "State of the circuit breaker in front of the WhatsApp sidecar.",
                states=_BREAKER_STATES,
                registry=self.registry,
            )
            if with_breaker
            else None
        )
        self.cpu = Gauge(
            "clientmgr_process_cpu_percent",
            "CPU used by this process since the previous scrape (psutil; 100 = one core).",
            registry=self.registry,
        )
        self.rss = Gauge(
            "clientmgr_process_rss_bytes",
            "Resident memory of this process (psutil).",
            registry=self.registry,
        )
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first reading only starts the measurement


class _Resources:
    """Connections the checks need, opened on first use and closed with the app."""

    def __init__(self, deps: WebDeps) -> None:
        self._deps = deps
        self._engine: AsyncEngine | None = None
        self._http: httpx.AsyncClient | None = None

    def engine(self) -> AsyncEngine:
        assert self._deps.database_url is not None
        if self._engine is None:
            # No pool: a probe every few seconds must not hold connections in between.
            self._engine = create_engine(self._deps.database_url, poolclass=NullPool)
        return self._engine

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self._deps.check_timeout,
                transport=self._deps.sidecar_transport,
                trust_env=False,
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def _error(status: int, code: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": code, "reason": reason}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(deps: WebDeps) -> Starlette:
    """The web runner's app over ``deps`` (see the module docstring for the routes)."""
    events = WhatsAppEvents(deps.uow_factory, deps.clock, deps.notifier, deps.lookups)
    metrics = _Metrics(with_breaker=deps.breaker_state is not None)
    resources = _Resources(deps)
    if not deps.events_secret:
        logger.warning(
            "SIDECAR_EVENTS_SECRET is not set: WhatsApp events are refused until it is "
            "(set the same value in the sidecar)"
        )

    async def receive_event(request: Request) -> Response:
        new_correlation_id()
        if not deps.events_secret:
            metrics.events.labels("?", "refused").inc()
            return _error(503, "not_configured", "SIDECAR_EVENTS_SECRET is not set")
        body = await _read_body(request, MAX_EVENT_BYTES)
        if body is None:
            metrics.events.labels("?", "rejected").inc()
            return _error(413, "payload_too_large", f"events are at most {MAX_EVENT_BYTES} bytes")
        if not signature_matches(deps.events_secret, body, request.headers.get(SIGNATURE_HEADER)):
            metrics.events.labels("?", "rejected").inc()
            logger.warning("sidecar event refused: bad or missing {}", SIGNATURE_HEADER)
            return _error(401, "unauthorized", f"bad or missing {SIGNATURE_HEADER}")
        try:
            event = parse_event(json.loads(body))
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            metrics.events.labels("?", "rejected").inc()
            code = "invalid_payload" if isinstance(exc, MalformedEventError) else "invalid_json"
            return _error(400, code, str(exc))
        kind = event.type if event.type in _EVENT_TYPES else "other"  # bounded label values
        with logger.contextualize(event_id=event.event_id, session_id=event.session_id):
            try:
                result = await events.apply(event)
            except MalformedEventError as exc:
                metrics.events.labels(kind, "rejected").inc()
                logger.warning("sidecar {} event refused: {}", event.type, exc)
                return _error(400, "invalid_payload", str(exc))
            except SellerUnreachableError as exc:
                metrics.events.labels(kind, "retry").inc()
                logger.warning(
                    "sidecar {} event: seller not told yet ({}); will be retried", event.type, exc
                )
                return _error(503, "notify_failed", str(exc))
            except Exception:
                metrics.events.labels(kind, "error").inc()
                logger.exception("sidecar {} event failed", event.type)
                return _error(500, "internal_error", "the event could not be applied")
            metrics.events.labels(kind, result.outcome.value).inc()
            logger.info("sidecar {} event {}: {}", event.type, result.outcome.value, result.detail)
        return JSONResponse({"outcome": result.outcome.value, "detail": result.detail})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks: dict[str, str] = {}
        timeout = deps.check_timeout
        await _check(checks, "database", lambda: _outbox_depth(deps), timeout)
        if deps.database_url is not None:
            await _check(
                checks, "schema", lambda: ensure_schema_current(resources.engine()), timeout
            )
        if deps.sidecar_url:
            url = deps.sidecar_url
            await _check(checks, "sidecar", lambda: _probe_sidecar(resources.http(), url), timeout)
        ready = all(value == "ok" for value in checks.values())
        if not ready:
            logger.warning("not ready: {}", {k: v for k, v in checks.items() if v != "ok"})
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics_page(_: Request) -> Response:
        try:
            async with asyncio.timeout(deps.check_timeout):
                depth = await _outbox_depth(deps)
        except Exception as exc:
            logger.warning("metrics: the database did not answer: {!r}", exc)
            metrics.database_up.set(0)
        else:
            metrics.database_up.set(1)
            for status in OutboxStatus:
                metrics.outbox.labels(status.value).set(depth[status])
            metrics.queue_depth.set(sum(depth[s] for s in _WAITING))
            metrics.sent.set(sum(depth[s] for s in _WENT_OUT))
            metrics.failed.set(depth[OutboxStatus.FAILED])
        if metrics.breaker is not None and deps.breaker_state is not None:
            state = str(deps.breaker_state())
            if state in _BREAKER_STATES:
                metrics.breaker.state(state)
        metrics.cpu.set(metrics.process.cpu_percent(None))
        metrics.rss.set(metrics.process.memory_info().rss)
        body = generate_latest(REGISTRY) + generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await resources.close()

    app = Starlette(
        routes=[
            Route(EVENTS_PATH, receive_event, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.resources = resources
    return app


async def _check(
    checks: dict[str, str], name: str, probe: Callable[[], Awaitable[Any]], seconds: float
) -> None:
    """Run one readiness probe: "ok", or why not (a ClientmgrError says it in words)."""
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        checks[name] = f"no answer within {seconds:g} s"
    except ClientmgrError as exc:
        checks[name] = str(exc)
    except Exception as exc:
        checks[name] = f"{type(exc).__name__}: {exc}"
    else:
        checks[name] = "ok"


async def _outbox_depth(deps: WebDeps) -> dict[OutboxStatus, int]:
    async with deps.uow_factory() as uow:
        return await deps.lookups(uow).outbox_depth()


async def _probe_sidecar(client: httpx.AsyncClient, base_url: str) -> None:
    response = await client.get(f"{base_url.rstrip('/')}/health")
    if response.status_code != 200:
        raise RuntimeError(f"the sidecar's /health answered HTTP {response.status_code}")
