"""Message entities: Telegram's HTML parse mode, the HTML view of entities, auto-detected commands.

``parse_html`` follows the parser in TDLib (``MessageEntity.cpp``, ``parse_html``) closely
enough to refuse what Telegram refuses, with the same wording: an unescaped ``<`` or an unknown
tag such as ``<br>`` fails with ``can't parse entities: Unsupported start tag "br" at byte
offset 4``. That is the point of the emulator: a bot that forgets ``html.escape`` on a client's
name breaks in a test, not in production. Like TDLib, only ``&lt; &gt; &amp; &quot;`` and
numeric references are decoded; any other ``&`` stays literal text.

Offsets and lengths are in UTF-16 code units, as in the Bot API, so emoji count twice.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "EntityParseError",
    "detect_entities",
    "entities_to_html",
    "parse_html",
    "strip_text",
    "utf16_len",
]

Entity = dict[str, Any]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = {*_SIMPLE_TAGS, "a", "span", "tg-emoji", "blockquote"}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REFERENCE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
# TDLib's is_space: space, tab, CR, LF, vertical tab, form feed.
_SPACES = " \t\r\n\v\f"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str()`` is TDLib's wording."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _decode_reference(text: str, pos: int) -> tuple[str, int] | None:
    """The character an ``&...;`` reference at ``pos`` stands for and the position after it."""
    match = _REFERENCE.match(text, pos)
    if not match:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = _NAMED_REFERENCES.get(name)
        return (char, match.end()) if char else None
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8", "surrogatepass"))


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Plain text and entities of a Telegram-HTML string, or ``EntityParseError``."""
    out: list[str] = []
    offset = 0  # UTF-16 offset of the end of ``out``
    stack: list[tuple[str, str, int]] = []  # (tag, argument, utf16 start)
    entities: list[Entity] = []
    n = len(source)
    i = 0
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded = _decode_reference(source, i)
            if decoded:
                char, i = decoded
                out.append(char)
                offset += utf16_len(char)
                continue
        if ch != "<":
            out.append(ch)
            offset += utf16_len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            i = _close_tag(source, begin, i, stack, entities, offset)
            continue
        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= n:
            where = _byte_offset(source, begin)
            raise EntityParseError(f"Unclosed start tag at byte offset {where}")
        tag = source[begin + 1 : i].lower()
        if tag not in _SUPPORTED_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
            )
        i, argument = _read_attributes(source, begin, i, tag)
        if i >= n:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
            )
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        stack.append((tag, argument, offset))
        i += 1  # past ">"
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    text = "".join(out)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return text, entities


def _read_attributes(source: str, begin: int, i: int, tag: str) -> tuple[int, str]:
    """Read ``name=value`` pairs up to ``>``; return the position of ``>`` and the tag argument."""
    n = len(source)
    argument = ""
    where = f"at byte offset {_byte_offset(source, begin)}"
    while i < n and source[i] != ">":
        while i < n and source[i] in _SPACES:
            i += 1
        if i < n and source[i] == ">":
            break
        name_start = i
        while i < n and source[i] not in _SPACES and source[i] not in "=>":
            i += 1
        name = source[name_start:i]
        if not name:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" {where}')
        while i < n and source[i] in _SPACES:
            i += 1
        if tag == "blockquote" and name == "expandable" and (i >= n or source[i] != "="):
            argument = "1"  # the one attribute Telegram accepts without a value
            continue
        if i >= n or source[i] != "=":
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" {where}'
            )
        i += 1
        while i < n and source[i] in _SPACES:
            i += 1
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" {where}')
        value_chars: list[str] = []
        if source[i] not in "'\"":
            token_start = i
            while i < n and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            value_chars.append(source[token_start:i].lower())
            if i < n and source[i] not in _SPACES and source[i] != ">":
                token_at = _byte_offset(source, token_start)
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_at}")
        else:
            quote = source[i]
            i += 1
            while i < n and source[i] != quote:
                decoded = _decode_reference(source, i) if source[i] == "&" else None
                if decoded:
                    value_chars.append(decoded[0])
                    i = decoded[1]
                else:
                    value_chars.append(source[i])
                    i += 1
            if i < n:
                i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag {where}")
        value = "".join(value_chars)
        if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return i, argument


def _close_tag(
    source: str,
    begin: int,
    i: int,
    stack: list[tuple[str, str, int]],
    entities: list[Entity],
    offset: int,
) -> int:
    """Handle ``</tag>`` starting at ``begin``; return the position after ``>``."""
    n = len(source)
    where = f"at byte offset {_byte_offset(source, begin)}"
    if not stack:
        raise EntityParseError(f"Unexpected end tag {where}")
    i += 1  # past "/"
    while i < n and source[i] not in _SPACES and source[i] != ">":
        i += 1
    end_name = source[begin + 2 : i]
    while i < n and source[i] in _SPACES:
        i += 1
    if i >= n or source[i] != ">":
        raise EntityParseError(f"Unclosed end tag {where}")
    tag, argument, start = stack.pop()
    if end_name and end_name.lower() != tag:
        raise EntityParseError(
            f'Unmatched end tag {where}, expected "</{tag}>", found "</{end_name}>"'
        )
    length = offset - start
    if length > 0:
        entity = _entity_for(tag, argument, start, length)
        if entity is not None:
            _merge_code_into_pre(entity, entities)
    return i + 1


def _entity_for(tag: str, argument: str, start: int, length: int) -> Entity | None:
    entity: Entity = {"offset": start, "length": length}
    if tag in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag]
        if tag == "code" and argument:
            entity["language"] = argument
    elif tag == "span":
        entity["type"] = "spoiler"
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    elif tag == "tg-emoji":
        if not argument:
            return None
        entity.update(type="custom_emoji", custom_emoji_id=argument)
    else:  # "a"
        if not argument:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", argument)
        if user:
            entity.update(
                type="text_mention", user={"id": int(user[1]), "is_bot": False, "first_name": ""}
            )
        else:
            entity.update(type="text_link", url=argument)
    return entity


def _merge_code_into_pre(entity: Entity, entities: list[Entity]) -> None:
    """``<pre><code class="language-x">`` is one ``pre`` entity with a language, as in TDLib."""
    if entity["type"] == "pre" and entities:
        inner = entities[-1]
        same_span = inner["offset"] == entity["offset"] and inner["length"] == entity["length"]
        if inner["type"] == "code" and same_span:
            entities.pop()
            if "language" in inner:
                entity["language"] = inner["language"]
    entities.append(entity)


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace like Telegram does, moving and clipping entities to match."""
    stripped = text.lstrip()
    head = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip()
    size = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - head, 0)
        end = min(entity["offset"] + entity["length"] - head, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]']", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")


def detect_entities(text: str) -> list[Entity]:
    """Entities Telegram adds to what a user types: ``/commands``, links and ``@mentions``."""
    found: list[Entity] = []
    for kind, pattern in (("bot_command", _COMMAND), ("url", _URL), ("mention", _MENTION)):
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": start, "length": utf16_len(match[0])})
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return [
        entity
        for index, entity in enumerate(found)
        if not any(_overlaps(entity, earlier) for earlier in found[:index])
    ]


def _overlaps(a: Entity, b: Entity) -> bool:
    return a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"]


def _open_tag(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        if entity.get("language"):
            language = html.escape(entity["language"])
            return f'<pre><code class="language-{language}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(entity["custom_emoji_id"])}">', "</tg-emoji>"
    return None


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Telegram HTML for ``text`` with ``entities``: the canonical form of what the user sees.

    Entities that carry no markup (commands, links Telegram detected) add no tags. Entities
    are assumed nested, which is what Telegram's own parsers produce.
    """
    opens: dict[int, list[tuple[int, str, str]]] = {}
    for entity in entities:
        tags = _open_tag(entity)
        if tags:
            opens.setdefault(entity["offset"], []).append((entity["length"], *tags))
    out: list[str] = []
    closing: list[tuple[int, str]] = []  # (utf16 end, closing tag), innermost last
    position = 0
    for ch in text:
        while closing and closing[-1][0] <= position:
            out.append(closing.pop()[1])
        for length, open_tag, close_tag in sorted(opens.get(position, ()), reverse=True):
            out.append(open_tag)
            closing.append((position + length, close_tag))
        out.append(html.escape(ch, quote=False))
        position += utf16_len(ch)
    out.extend(tag for _, tag in reversed(closing))
    return "".join(out)
