"""The user's side over HTTP/JSON, under ``/_emulator``: what a chat page in a browser needs.

Everything here acts on the same ``EmulatorState`` the Bot API serves, exactly like the
Python driver does, so a playground page and a test see the same chat. Answers use the Bot
API's envelope (``{"ok": true, "result": ...}`` / ``{"ok": false, "description": ...}``).

- ``GET  /bots`` — the emulated bots (no tokens).
- ``POST /users`` — ``{"id", "first_name", ...}``: register (or rename) a person.
- ``GET  /chats/{user_id}?after=<revision>&timeout=<s>`` — the chat as the user sees it;
  with ``after`` it long-polls until something changes, which is how the page refreshes.
- ``POST /chats/{user_id}/messages`` — ``{"text"}``: type and send.
- ``POST /chats/{user_id}/press`` — ``{"label", "message_id"?}``: tap a button.
- ``POST /chats/{user_id}/files`` — multipart ``file`` (+ ``kind`` document|photo, ``caption``).
- ``POST /chats/{user_id}/block`` — ``{"blocked": true|false}``.
- ``GET  /files/{file_id}`` — download any stored file.
- ``GET  /calls`` — the bot's recent Bot API calls, refused ones included.

``?bot=<id|username>`` picks the bot when more than one is emulated.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clientmgr.fakes.telegram.errors import BotApiError, UserActionError
from clientmgr.fakes.telegram.params import parse_multipart
from clientmgr.fakes.telegram.state import (
    BotState,
    CallbackQuery,
    EmulatorState,
    Message,
    User,
)

__all__ = ["chat_view", "user_routes"]

Handler = Callable[[Request], Awaitable[Any]]
_MAX_LONG_POLL = 30.0


def chat_view(state: EmulatorState, bot: BotState, user: User) -> dict[str, Any]:
    """The chat between ``user`` and ``bot`` as a page draws it."""
    chat = bot.chats.get(user.id)
    messages = chat.history() if chat else []
    queries = [q for q in bot.callback_queries.values() if q.user is user]
    recent_actions = [
        action for at, action in (chat.actions if chat else ()) if at >= state.now() - 5
    ]
    return {
        "revision": state.revision,
        "bot": bot.to_api_me(),
        "user": user.to_api(),
        "blocked": bool(chat and chat.blocked),
        "messages": [message.to_view() for message in messages],
        "reply_keyboard": chat.reply_keyboard if chat and chat.reply_keyboard else None,
        "chat_action": recent_actions[-1] if recent_actions else None,
        "callback_queries": [_query_view(query) for query in queries[-20:]],
    }


def _query_view(query: CallbackQuery) -> dict[str, Any]:
    return {
        "id": query.id,
        "message_id": query.message.message_id,
        "data": query.data,
        "answered": query.answered,
        "text": query.answer_text,
        "show_alert": query.show_alert,
        "url": query.url,
    }


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _fail(status: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": status, "description": description}, status)


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Turn the handler's result or error into the envelope."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except UserActionError as error:
            status = 404 if isinstance(error, LookupError) else 400
            return _fail(status, str(error))
        except LookupError as error:
            return _fail(404, str(error.args[0] if error.args else error))
        except BotApiError as error:
            return _fail(error.error_code, error.description)
        except (ValueError, TypeError) as error:
            return _fail(400, f"bad request: {error}")
        return result if isinstance(result, Response) else _ok(result)

    return endpoint


def user_routes(state: EmulatorState) -> list[Route]:
    """The ``/_emulator`` routes over ``state`` (mounted by ``api.create_app``)."""

    def bot_of(request: Request) -> BotState:
        ref = request.query_params.get("bot")
        return state.bot(int(ref) if ref and ref.isdigit() else ref)

    def user_of(request: Request) -> User:
        user_id = int(request.path_params["user_id"])
        user = state.users.get(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id}: POST /_emulator/users first")
        return user

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        return data

    def message_of(bot: BotState, user: User, message_id: Any) -> Message | None:
        if message_id is None:
            return None
        chat = bot.chats.get(user.id)
        message = chat.messages.get(int(message_id)) if chat else None
        if message is None:
            raise LookupError(f"no message {message_id} in the chat with user {user.id}")
        return message

    async def list_bots(request: Request) -> Any:
        return [
            {
                **bot.to_api_me(),
                "webhook": bot.webhook.url if bot.webhook else None,
                "pending_update_count": len(bot.updates),
            }
            for bot in state.bots.values()
        ]

    async def add_user(request: Request) -> Any:
        data = await body_of(request)
        user = state.add_user(
            int(data["id"]),
            str(data.get("first_name") or "Usuário"),
            last_name=data.get("last_name"),
            username=data.get("username"),
            language_code=data.get("language_code", "pt-br"),
        )
        return user.to_api()

    async def get_chat(request: Request) -> Any:
        bot, user = bot_of(request), user_of(request)
        after = request.query_params.get("after")
        if after is not None:
            timeout = min(float(request.query_params.get("timeout", "25")), _MAX_LONG_POLL)
            threshold = int(after)
            await state.wait_until(lambda: state.revision > threshold or state.closing, timeout)
        return chat_view(state, bot, user)

    async def send_text(request: Request) -> Any:
        bot, user = bot_of(request), user_of(request)
        data = await body_of(request)
        reply_to = message_of(bot, user, data.get("reply_to_message_id"))
        message = state.user_sends_text(bot, user, str(data.get("text", "")), reply_to=reply_to)
        return message.to_view()

    async def press(request: Request) -> Any:
        bot, user = bot_of(request), user_of(request)
        data = await body_of(request)
        message = message_of(bot, user, data.get("message_id"))
        if "callback_data" in data and message is not None:
            wanted = str(data["callback_data"])
            button = next(
                (b for row in message.keyboard for b in row if b.get("callback_data") == wanted),
                None,
            )
            if button is None:
                raise LookupError(f"message {message.message_id} has no button with that data")
            result = state.user_presses(user, message, button)
        else:
            result = state.user_presses_label(bot, user, str(data["label"]), message=message)
        if isinstance(result, CallbackQuery):
            return {"callback_query": _query_view(result)}
        return {"message": result.to_view()}

    async def send_file(request: Request) -> Any:
        bot, user = bot_of(request), user_of(request)
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ValueError("send the file as multipart/form-data (field 'file')")
        fields, uploads = parse_multipart(content_type, await request.body())
        upload = uploads.get("file")
        if upload is None:
            raise ValueError("no 'file' part in the request")
        kind = fields.get("kind", "document")
        if kind not in ("document", "photo"):
            raise ValueError("kind is 'document' or 'photo'")
        message = state.user_sends_file(
            bot,
            user,
            upload.data,
            kind=kind,
            file_name=upload.filename if kind == "document" else None,
            mime_type=upload.content_type if kind == "document" else None,
            caption=fields.get("caption") or None,
        )
        return message.to_view()

    async def block(request: Request) -> Any:
        bot, user = bot_of(request), user_of(request)
        data = await body_of(request)
        state.user_blocks(bot, user, blocked=bool(data.get("blocked", True)))
        return True

    async def download(request: Request) -> Any:
        stored = state.files.get(request.path_params["file_id"])
        if stored is None:
            raise LookupError("no such file")
        headers = {}
        if stored.file_name:
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(stored.file_name)}"
        media_type = stored.mime_type or ("image/jpeg" if stored.kind == "photo" else None)
        return Response(stored.data, media_type=media_type, headers=headers)

    async def calls(request: Request) -> Any:
        bot = bot_of(request)
        return [
            {
                "method": call.method,
                "params": call.params,
                "status": call.status,
                "description": call.description,
                "at": call.at,
            }
            for call in bot.calls
        ]

    return [
        Route("/bots", _endpoint(list_bots), methods=["GET"]),
        Route("/users", _endpoint(add_user), methods=["POST"]),
        Route("/chats/{user_id:int}", _endpoint(get_chat), methods=["GET"]),
        Route("/chats/{user_id:int}/messages", _endpoint(send_text), methods=["POST"]),
        Route("/chats/{user_id:int}/press", _endpoint(press), methods=["POST"]),
        Route("/chats/{user_id:int}/files", _endpoint(send_file), methods=["POST"]),
        Route("/chats/{user_id:int}/block", _endpoint(block), methods=["POST"]),
        Route("/files/{file_id}", _endpoint(download), methods=["GET"]),
        Route("/calls", _endpoint(calls), methods=["GET"]),
    ]
