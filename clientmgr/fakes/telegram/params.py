"""Bot API request parameters (query string, form, JSON or multipart), read as Telegram reads them.

Telegram accepts every method's parameters in any of four shapes, and python-telegram-bot
uses two of them: ``application/x-www-form-urlencoded`` normally, ``multipart/form-data``
when a file is uploaded. In both, every value is a string and structured values
(``reply_markup``, ``allowed_updates``) are JSON text, so ``Params`` converts on access and
reports a bad value with Telegram's wording.

Multipart is parsed here (binary-safe, a few lines) rather than through Starlette's form
support, which would add python-multipart as a dependency for the sake of one fake server.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from attrs import frozen
from starlette.requests import Request

from clientmgr.fakes.telegram.errors import BotApiError

__all__ = ["Params", "Upload", "parse_multipart", "read_params"]

_PARAM = re.compile(r';\s*([\w*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
_FORM_ESCAPE = re.compile(r"%(22|[01][0-9A-Fa-f])|\\(.)")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@frozen
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes = b""

    def __repr__(self) -> str:
        return f"<Upload {self.filename!r} {self.content_type} {len(self.data)} bytes>"


def _unescape(value: str) -> str:
    """Undo the HTML5 form encoding httpx and browsers apply to quoted header parameters."""

    def replace(match: re.Match[str]) -> str:
        return chr(int(match[1], 16)) if match[1] else match[2]

    return _FORM_ESCAPE.sub(replace, value)


def _header_params(value: str) -> dict[str, str]:
    """Parameters of a header value such as ``form-data; name="a"; filename="b.csv"``."""
    _, separator, rest = value.partition(";")
    if not separator:
        return {}
    return {
        name.lower(): _unescape(quoted) if quoted else bare
        for name, quoted, bare in _PARAM.findall(";" + rest)
    }


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Split a ``multipart/form-data`` body into text fields and file uploads."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise BotApiError.bad_request("multipart request without boundary")
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    # Each delimiter is preceded by CRLF, except the first one, hence the prepended CRLF.
    parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    for part in parts[1:]:
        if part.startswith(b"--"):
            break
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition or "filename*" in disposition:
            extended = disposition.get("filename*", "").split("'")[-1]
            filename = disposition.get("filename") or unquote(extended)
            ctype = headers.get("content-type")
            uploads[name] = Upload(filename=filename or None, content_type=ctype, data=content)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, uploads


async def read_params(request: Request) -> Params:
    """All parameters of a Bot API request, whatever shape the client sent them in."""
    values: dict[str, Any] = dict(request.query_params)
    uploads: dict[str, Upload] = {}
    if request.method == "POST":
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/json":
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError:
                    raise BotApiError.bad_request("can't parse JSON object") from None
                if not isinstance(data, dict):
                    raise BotApiError.bad_request("JSON object expected")
                values.update(data)
        elif media_type == "application/x-www-form-urlencoded":
            values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif media_type == "multipart/form-data":
            fields, uploads = parse_multipart(content_type, body)
            values.update(fields)
        elif body.strip():
            raise BotApiError.bad_request(f"unsupported Content-Type {media_type!r}")
    return Params(values, uploads)


class Params:
    """Typed access to one request's parameters, failing with Telegram's 400 wording."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.uploads

    def raw(self, name: str) -> Any:
        """The value as received (string for forms, any JSON type for JSON bodies)."""
        return self.values.get(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string parameter; ``required`` makes a missing one "<name> is empty"."""
        value = self.values.get(name)
        if value is None or (required and value == ""):
            if required:
                raise BotApiError.bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        """An integer parameter (Telegram accepts it as a number or a numeric string)."""
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise BotApiError.bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise BotApiError.bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            try:
                return int(float(value))
            except (TypeError, ValueError):
                raise BotApiError.bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        """A numeric parameter such as a timeout in seconds."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise BotApiError.bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means ``False``."""
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise BotApiError.bad_request(f"invalid {name} specified")

    def json(self, name: str, *, what: str | None = None) -> Any:
        """A structured parameter, sent as JSON text in forms or as JSON in a JSON body."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise BotApiError.bad_request(f"can't parse {what or name} JSON object") from None

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file, or the string (file_id or URL) sent instead of one."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            attached = self.uploads.get(value.removeprefix("attach://"))
            if attached is None:
                raise BotApiError.bad_request(f"can't find attached file {value}")
            return attached
        return value or None

    def summary(self) -> dict[str, Any]:
        """The parameters for a log: values as sent, uploads as a short description."""
        described: dict[str, Any] = dict(self.values)
        described.update({name: repr(upload) for name, upload in self.uploads.items()})
        return described
