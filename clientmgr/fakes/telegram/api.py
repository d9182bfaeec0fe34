"""The emulator over HTTP: a Starlette app serving the Bot API, file downloads and the user side.

Routes:

- ``GET|POST /bot<token>/<method>`` — the Bot API, in Telegram's envelope
  (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``);
  an unknown token is 401 "Unauthorized", a malformed one or an unknown method 404 "Not Found".
- ``GET /file/bot<token>/<file_path>`` — the bytes behind ``getFile``'s ``file_path``.
- ``/_emulator/...`` — the user's side as JSON (see ``user_api``), for the playground page.

The app's lifespan runs the webhook dispatcher, so a webhook works under any ASGI server,
under ``httpx.ASGITransport`` (enter ``app.router.lifespan_context``), and in the driver.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from clientmgr.fakes.telegram.errors import BotApiError
from clientmgr.fakes.telegram.methods import call_method
from clientmgr.fakes.telegram.params import Params, read_params
from clientmgr.fakes.telegram.state import ApiCall, BotState, EmulatorState
from clientmgr.fakes.telegram.user_api import user_routes
from clientmgr.fakes.telegram.webhook import WebhookDispatcher

__all__ = ["create_app"]

_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_NOT_FOUND = BotApiError(404, "Not Found")
_UNAUTHORIZED = BotApiError(401, "Unauthorized")


def _error(error: BotApiError) -> JSONResponse:
    return JSONResponse(error.to_api(), status_code=error.error_code)


def _record(
    state: EmulatorState, bot: BotState, method: str, params: Params, error: BotApiError | None
) -> None:
    bot.calls.append(
        ApiCall(
            method=method,
            params=params.summary(),
            status=error.error_code if error else 200,
            description=error.description if error else None,
            at=state.clock(),
        )
    )


def create_app(state: EmulatorState, *, webhooks: bool = True) -> Starlette:
    """The emulator as an ASGI app over ``state`` (``webhooks=False`` never POSTs updates)."""

    async def bot_api(request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        if not _TOKEN_SHAPE.match(token):
            return _error(_NOT_FOUND)
        bot = state.bot_for_token(token)
        if bot is None:
            return _error(_UNAUTHORIZED)
        polling = method.lower() == "getupdates"
        # A long poll waiting for updates is not the bot being busy.
        busy = contextlib.nullcontext() if polling else state.request_in_flight()
        with busy:
            try:
                params = await read_params(request)
            except BotApiError as error:
                _record(state, bot, method, Params({}), error)
                return _error(error)
            try:
                result = await call_method(state, bot, method, params)
            except BotApiError as error:
                _record(state, bot, method, params, error)
                return _error(error)
        if not polling or result:
            _record(state, bot, method, params, None)
        return JSONResponse({"ok": True, "result": result})

    async def download(request: Request) -> Response:
        token = request.path_params["token"]
        if state.bot_for_token(token) is None:
            return _error(_UNAUTHORIZED if _TOKEN_SHAPE.match(token) else _NOT_FOUND)
        stored = state.files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return _error(_NOT_FOUND)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.closing = False
        async with contextlib.AsyncExitStack() as stack:
            if webhooks:
                await stack.enter_async_context(WebhookDispatcher(state))
            try:
                yield
            finally:
                state.close()

    return Starlette(
        routes=[
            Route("/bot{token}/{method}", bot_api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{file_path:path}", download, methods=["GET"]),
            Mount("/_emulator", routes=user_routes(state)),
        ],
        lifespan=lifespan,
    )
