"""A local fake Telegram Bot API: the bot's end-to-end tests and the offline playground run on it.

Nothing here talks to api.telegram.org. ``Emulator`` starts the server and plays users;
``create_app`` is the ASGI app alone, for serving it elsewhere (``python -m`` this package).
See ``driver`` for the test API, ``methods`` for what the Bot API side supports and
``user_api`` for the JSON endpoints a browser page uses.
"""

from clientmgr.fakes.telegram.api import create_app
from clientmgr.fakes.telegram.driver import (
    DEFAULT_TOKEN,
    Emulator,
    EmulatorUser,
    Transport,
)
from clientmgr.fakes.telegram.entities import (
    EntityParseError,
    entities_to_html,
    parse_html,
)
from clientmgr.fakes.telegram.errors import (
    BotApiError,
    ButtonNotFoundError,
    EmulatorError,
    EmulatorTimeoutError,
    UserActionError,
)
from clientmgr.fakes.telegram.flood import FloodControl
from clientmgr.fakes.telegram.state import (
    ApiCall,
    BotState,
    CallbackQuery,
    Chat,
    EmulatorState,
    Message,
    StoredFile,
    User,
)
from clientmgr.fakes.telegram.webhook import SECRET_HEADER

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ApiCall",
    "BotApiError",
    "BotState",
    "ButtonNotFoundError",
    "CallbackQuery",
    "Chat",
    "Emulator",
    "EmulatorError",
    "EmulatorState",
    "EmulatorTimeoutError",
    "EmulatorUser",
    "EntityParseError",
    "FloodControl",
    "Message",
    "StoredFile",
    "Transport",
    "User",
    "UserActionError",
    "create_app",
    "entities_to_html",
    "parse_html",
]
