"""The emulator's errors: Bot API refusals (sent to the bot as JSON) and user-side mistakes.

The tree (under ``clientmgr.errors.ClientmgrError``)::

    EmulatorError
    ├── BotApiError                   becomes {"ok": false, "error_code": ..., "description": ...}
    ├── UserActionError (ValueError)  the emulated user cannot do that (empty text, no such chat)
    │   └── ButtonNotFoundError (LookupError)   no button with that label on screen
    └── EmulatorTimeoutError (AssertionError)   a wait ran out; the message shows what the
                                                user saw and which Bot API calls failed

``EmulatorTimeoutError`` is an ``AssertionError`` on purpose: in a test a bot that never answers
is a failed expectation, and pytest prints it as one.
"""

from __future__ import annotations

from typing import Any

from clientmgr.errors import ClientmgrError

__all__ = [
    "BotApiError",
    "ButtonNotFoundError",
    "EmulatorError",
    "EmulatorTimeoutError",
    "UserActionError",
]


class EmulatorError(ClientmgrError):
    """Root of the errors raised by the fake Telegram."""


class BotApiError(EmulatorError):
    """A Bot API call refused the way Telegram refuses it (status code + description)."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        super().__init__(f"{error_code} {description}")

    def to_api(self) -> dict[str, Any]:
        """The JSON body Telegram sends with the error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    @classmethod
    def bad_request(cls, detail: str) -> BotApiError:
        """400 with Telegram's ``Bad Request:`` prefix."""
        return cls(400, f"Bad Request: {detail}")


class UserActionError(EmulatorError, ValueError):
    """The emulated user tried something a real Telegram client would not let them do."""


class ButtonNotFoundError(UserActionError, LookupError):
    """No visible button has the requested label; the message lists the ones that exist."""


class EmulatorTimeoutError(EmulatorError, AssertionError):
    """Waiting for the bot ran out of time."""
