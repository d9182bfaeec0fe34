"""A chat as a self-contained HTML page that looks like Telegram: for screenshots and review.

The bot's HTML is re-built from the entities the emulator parsed (a safe subset: b, i, u,
s, code, pre, a), user texts are escaped, photos are inlined as data URIs.
"""

from __future__ import annotations

import base64
import html

from clientmgr.fakes.telegram.state import Message

__all__ = ["transcript_html"]

_STYLE = """
body { margin: 0; background: #8fb3d9; font: 15px/1.35 "DejaVu Sans", sans-serif; }
.chat { width: 420px; margin: 0 auto; padding: 12px 10px 16px; display: flex;
        flex-direction: column; gap: 6px; }
.title { background: #517da2; color: #fff; padding: 10px 14px; font-weight: bold;
         width: 420px; margin: 0 auto; box-sizing: border-box; }
.msg { max-width: 85%; padding: 7px 10px; border-radius: 12px; white-space: pre-wrap;
       word-wrap: break-word; box-shadow: 0 1px 1px rgba(0,0,0,.15); }
.bot { align-self: flex-start; background: #fff; border-bottom-left-radius: 4px; }
.user { align-self: flex-end; background: #effdde; border-bottom-right-radius: 4px; }
.kb { align-self: flex-start; width: 85%; display: flex; flex-direction: column; gap: 3px; }
.row { display: flex; gap: 3px; }
.btn { flex: 1; background: rgba(80,120,160,.55); color: #fff; text-align: center;
       padding: 7px 4px; border-radius: 8px; font-size: 13px; }
.msg img { display: block; max-width: 260px; border-radius: 8px; margin-bottom: 4px; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; color: #a0315e; }
"""


def _bubble(message: Message) -> str:
    who = "bot" if message.from_bot else "user"
    body = message.html if message.from_bot else html.escape(message.content)
    if message.photo is not None:
        data = base64.b64encode(message.photo.data).decode()
        body = f'<img src="data:image/png;base64,{data}">' + body
    if message.document is not None:
        body = f"📄 {html.escape(message.document.file_name or 'arquivo')}<br>" + body
    parts = [f'<div class="msg {who}">{body}</div>']
    if message.from_bot and message.keyboard:
        rows = "".join(
            '<div class="row">'
            + "".join(f'<div class="btn">{html.escape(b["text"])}</div>' for b in row)
            + "</div>"
            for row in message.keyboard
        )
        parts.append(f'<div class="kb">{rows}</div>')
    return "".join(parts)


def transcript_html(messages: list[Message], title: str = "clientmgr") -> str:
    """The given messages (oldest first; deleted ones skipped) as one HTML page."""
    bubbles = "".join(_bubble(m) for m in messages if not m.deleted)
    return (
        f'<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><style>{_STYLE}'
        f'</style></head><body><div class="title">{html.escape(title)}</div>'
        f'<div class="chat">{bubbles}</div></body></html>'
    )
