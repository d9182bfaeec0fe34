"""The fake Telegram Bot API against the real python-telegram-bot: polling, webhook, files, errors.

A tiny bot (not clientmgr's) is enough to prove the emulator behaves like Telegram where it
matters to a bot: the wire formats PTB uses, long polling, webhook delivery with a secret,
HTML that Telegram would refuse, edits, limits, and 429 flood waits with AIORateLimiter.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import socket
import struct
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.helpers import escape

from clientmgr.fakes.telegram import (
    SECRET_HEADER,
    ButtonNotFoundError,
    CallbackQuery,
    Emulator,
    EmulatorTimeoutError,
    EntityParseError,
    FloodControl,
    entities_to_html,
    parse_html,
)
from clientmgr.fakes.telegram.entities import strip_text
from clientmgr.fakes.telegram.serving import BackgroundServer

TOKEN = "123456:TEST-emulator"
REPORT = "nome;telefone;valor\nAna;11988887777;35,90\nZé & Cia;11977776666;20,00\n".encode()

# -- a tiny bot -------------------------------------------------------------------------------


def _menu(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    name = escape(update.effective_user.first_name)
    await update.message.reply_html(
        f"Bem-vindo, <b>{name}</b>! 👋", reply_markup=_menu("Clientes", "Ajuda")
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Abrindo {query.data}")
    await query.edit_message_text(
        f"<b>{escape(query.data.title())}</b>: nenhum ainda",
        parse_mode=ParseMode.HTML,
        reply_markup=_menu("Voltar"),
    )


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    document = update.message.document
    data = bytes(await (await document.get_file()).download_as_bytearray())
    digest = hashlib.sha256(data).hexdigest()[:12]
    await update.message.reply_text(f"Recebi {document.file_name}: {len(data)} bytes, {digest}")


async def _report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_document(
        InputFile(REPORT, filename="relatório.csv"),
        caption="<i>Seus clientes</i>",
        parse_mode=ParseMode.HTML,
    )


async def _broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html(f"Cliente <x> {update.effective_user.first_name}")


async def _burst(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    for number in (1, 2, 3):
        await update.message.reply_text(f"parte {number}/3")


async def _keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_chat_action(ChatAction.TYPING)
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Sim"), KeyboardButton("Não")]], one_time_keyboard=True
    )
    await update.message.reply_text("Confirma?", reply_markup=keyboard)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = update.message.text
    if text in ("Sim", "Não"):
        await update.message.reply_text(f"Resposta: {text}", reply_markup=ReplyKeyboardRemove())
        return
    await update.message.reply_html(f"Você disse: <b>{escape(text)}</b> ✅")


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user, as a real bot should: this is how the tests see a refused call."""
    if isinstance(update, Update) and update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, f"erro: {context.error}")


def make_bot(emu: Emulator) -> Application:
    """The tiny bot, wired to the emulator and to ``AIORateLimiter(max_retries=3)``."""
    app = emu.application_builder().rate_limiter(AIORateLimiter(max_retries=3)).build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CommandHandler("report", _report))
    app.add_handler(CommandHandler("broken", _broken))
    app.add_handler(CommandHandler("burst", _burst))
    app.add_handler(CommandHandler("keyboard", _keyboard))
    app.add_handler(CallbackQueryHandler(_button))
    app.add_handler(MessageHandler(filters.Document.ALL, _document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_error_handler(_on_error)
    return app


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """Run ``app`` with long polling for the duration of the block."""
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def free_port() -> int:
    """A loopback port nobody listens on (for PTB's webhook server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fresh fake Telegram on a free loopback port."""
    async with Emulator(token=TOKEN, bot_username="clientmgr_test_bot") as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Application]:
    """The tiny bot, long-polling ``emu``."""
    async with polling(make_bot(emu)) as app:
        yield app


# -- polling ----------------------------------------------------------------------------------


async def test_start_buttons_and_edit_in_place(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1001, first_name="Ana <Zé> & Cia")

    await user.send("/start")
    welcome = await user.wait_for_message(contains="Bem-vindo")

    assert welcome.text == "Bem-vindo, Ana <Zé> & Cia! 👋"
    assert welcome.html == "Bem-vindo, <b>Ana &lt;Zé&gt; &amp; Cia</b>! 👋"
    assert welcome.buttons == ["Clientes", "Ajuda"]
    assert welcome.sender.username == "clientmgr_test_bot"

    query = await user.press("Clientes")
    assert isinstance(query, CallbackQuery)
    edited = await user.wait_for_message(contains="nenhum ainda")
    await user.wait_for_answer(query)

    assert edited is welcome  # edited in place, not a new message
    assert edited.edited
    assert edited.html == "<b>Clientes</b>: nenhum ainda"
    assert edited.buttons == ["Voltar"]
    assert query.answer_text == "Abrindo clientes"
    assert not query.show_alert
    assert [m.from_bot for m in user.messages] == [False, True]
    with pytest.raises(ButtonNotFoundError, match="Voltar"):
        await user.press("Ajuda")  # gone with the edit


async def test_escaped_user_text_and_emoji_survive_html(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1002, first_name="Bia")
    typed = "<b>_*[x] & 😀 </i>"

    await user.send(typed)
    reply = await user.wait_for_message(contains="Você disse")

    assert reply.text == f"Você disse: {typed} ✅"
    bold = reply.entities[0]
    assert bold["type"] == "bold"
    assert bold["offset"] == len("Você disse: ")
    assert bold["length"] == len(typed) + 1  # 😀 is two UTF-16 code units
    assert reply.html == f"Você disse: <b>{html.escape(typed, quote=False)}</b> ✅"
    assert emu.failed_calls == []


async def test_reply_keyboard_commands_and_chat_details(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1003, first_name="Caio")
    await user.send("/keyboard")
    await user.wait_for_message(contains="Confirma?")
    assert user.reply_keyboard == [["Sim", "Não"]]
    assert user.chat is not None
    assert [action for _, action in user.chat.actions] == ["typing"]

    sent = await user.press("Não")  # a reply-keyboard button just sends its label
    assert sent.text == "Não"
    assert user.reply_keyboard == []  # one_time_keyboard hides after use
    assert (await user.wait_for_message()).text == "Resposta: Não"

    await bot.bot.set_my_commands([("start", "Começar"), ("clientes", "Ver clientes")])
    assert [c.command for c in await bot.bot.get_my_commands()] == ["start", "clientes"]
    chat = await bot.bot.get_chat(user.id)
    assert (chat.id, chat.first_name, chat.type) == (1003, "Caio", "private")
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.bot.set_my_commands([("Clientes!", "x")])


async def test_wait_idle_covers_the_whole_exchange(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1004, first_name="Duda")
    await user.send("/burst")
    await emu.wait_idle(timeout=3)
    assert [m.text for m in user.bot_messages] == ["parte 1/3", "parte 2/3", "parte 3/3"]
    assert emu.state.pending_update_count() == 0


async def test_asgi_transport_polls_without_sockets() -> None:
    async with (
        Emulator(token=TOKEN, transport="asgi") as emu,
        polling(make_bot(emu)),
    ):
        assert emu.base_url.startswith("http://telegram-emulator.invalid/")
        user = emu.user(id=1005, first_name="Eva")
        await user.send("/start")
        assert (await user.wait_for_message()).buttons == ["Clientes", "Ajuda"]


# -- files ------------------------------------------------------------------------------------


async def test_files_round_trip_both_ways(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1010, first_name="Fábio")
    data = bytes(range(256)) * 40 + b"\r\n--boundary-lookalike\r\n"

    await user.upload("clientes.csv", data, mime="text/csv")
    receipt = await user.wait_for_message(contains="Recebi")
    digest = hashlib.sha256(data).hexdigest()[:12]
    assert receipt.text == f"Recebi clientes.csv: {len(data)} bytes, {digest}"

    await user.send("/report")
    report = await user.wait_for_message(where=lambda m: m.document is not None)
    assert report.document.file_name == "relatório.csv"
    assert report.caption == "Seus clientes"
    assert report.html == "<i>Seus clientes</i>"
    assert await user.download(report) == REPORT

    # The bot can send the same file again by file_id, and fetch it back through getFile.
    again = await bot.bot.send_document(user.id, report.document.file_id)
    assert again.document.file_unique_id == report.document.file_unique_id
    fetched = await (await bot.bot.get_file(report.document.file_id)).download_as_bytearray()
    assert bytes(fetched) == REPORT
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.bot.send_document(user.id, "no-such-file-id")


async def test_photos_both_ways(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1011, first_name="Gabi")
    await user.send("/start")
    await user.wait_for_message()
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + struct.pack(">II", 3, 2) + b"\x08\x02rest"

    sent = await bot.bot.send_photo(user.id, InputFile(png, filename="qr.png"), caption="PIX")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (3, 2)
    assert await user.download(user.last_message) == png
    assert user.last_message.caption == "PIX"

    mine = await user.send_photo(png, caption="comprovante")
    assert mine.photo is not None
    fetched = await (await bot.bot.get_file(mine.photo.file_id)).download_as_bytearray()
    assert bytes(fetched) == png
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type photo as document"):
        await bot.bot.send_document(user.id, mine.photo.file_id)


async def test_json_and_query_string_requests(emu: Emulator, bot: Application) -> None:
    """Other clients (curl, the playground) send JSON or GET; Telegram accepts both."""
    user = emu.user(id=1012, first_name="Hana")
    await user.send("/start")
    await user.wait_for_message()
    async with httpx.AsyncClient(base_url=emu.base_url + TOKEN) as client:
        by_json = await client.post(
            "/sendMessage",
            json={
                "chat_id": user.id,
                "text": "<i>json</i>",
                "parse_mode": "HTML",
                "reply_markup": {"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]},
            },
        )
        by_query = await client.get("/sendMessage", params={"chat_id": user.id, "text": "get"})
        too_long_data = await client.post(
            "/sendMessage",
            json={
                "chat_id": user.id,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]},
            },
        )
    assert by_json.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Ok"
    assert by_query.json()["result"]["text"] == "get"
    assert too_long_data.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert [m.content for m in user.bot_messages[-2:]] == ["json", "get"]


# -- what Telegram refuses --------------------------------------------------------------------


async def test_unescaped_html_is_refused_like_telegram(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1020, first_name="Gil")
    await user.send("/broken")

    error = await user.wait_for_message(contains="erro:")

    # PTB drops "Bad Request: " and capitalizes; the raw description is in the call log.
    assert error.text == 'erro: Can\'t parse entities: unsupported start tag "x" at byte offset 8'
    assert [(c.method, c.status) for c in emu.failed_calls] == [("sendMessage", 400)]
    assert emu.failed_calls[0].description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 8'
    )
    with pytest.raises(BadRequest, match="can't find end tag corresponding to start tag"):
        await bot.bot.send_message(user.id, "<b>aberto", parse_mode=ParseMode.HTML)


async def test_limits_edits_and_permissions(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1021, first_name="Hugo")
    await user.send("/start")
    welcome = await user.wait_for_message(contains="Bem-vindo")
    api = bot.bot

    with pytest.raises(BadRequest, match="Message is too long"):
        await api.send_message(user.id, "a" * 4097)
    assert (await api.send_message(user.id, "a" * 4096)).text == "a" * 4096
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await api.send_document(user.id, InputFile(b"x", filename="x.txt"), caption="c" * 1025)

    with pytest.raises(BadRequest, match="Message is not modified"):
        await api.edit_message_text(
            welcome.html,
            chat_id=user.id,
            message_id=welcome.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=_menu("Clientes", "Ajuda"),
        )
    # Same text without reply_markup is a change: Telegram drops the keyboard.
    await api.edit_message_text(
        welcome.html, chat_id=user.id, message_id=welcome.message_id, parse_mode=ParseMode.HTML
    )
    assert welcome.buttons == []

    assert await api.delete_message(user.id, welcome.message_id)
    assert welcome.deleted
    assert welcome not in user.messages
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await api.delete_message(user.id, welcome.message_id)

    await user.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await api.send_message(user.id, "oi")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await api.send_message(emu.user(id=1022, first_name="Iara").id, "oi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await api.send_message(999_999, "oi")


async def test_callback_query_answers_once(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1023, first_name="Jó")
    await user.send("/start")
    await user.wait_for_message(contains="Bem-vindo")
    query = await user.press("Ajuda")
    await user.wait_for_answer(query)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.bot.answer_callback_query(query.id, "de novo")


async def test_unknown_token_method_and_file(emu: Emulator) -> None:
    with pytest.raises(InvalidToken):
        async with Application.builder().token("999:WRONG").base_url(emu.base_url).build():
            pass
    async with httpx.AsyncClient(base_url=emu.origin) as client:
        unknown_token = await client.get("/bot999:WRONG/getMe")
        malformed = await client.get("/botWRONG/getMe")
        unknown_method = await client.post(f"/bot{TOKEN}/sendTelepathy", data={"chat_id": "1"})
        no_file = await client.get(f"/file/bot{TOKEN}/documents/nothing.csv")
        me = await client.get(f"/bot{TOKEN}/GETME")  # method names are case-insensitive
    assert unknown_token.status_code == 401
    assert unknown_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert malformed.status_code == unknown_method.status_code == no_file.status_code == 404
    assert unknown_method.json()["description"] == "Not Found"
    assert me.json()["result"]["username"] == "clientmgr_test_bot"


async def test_a_silent_bot_fails_with_an_explanation(emu: Emulator, bot: Application) -> None:
    user = emu.user(id=1030, first_name="Kátia")
    await user.send("/broken")
    await user.wait_for_message(contains="erro:")
    await user.send("/nothing-handles-this")

    with pytest.raises(EmulatorTimeoutError) as caught:
        await user.wait_for_message(contains="never", timeout=0.2)

    explanation = str(caught.value)
    assert "Kátia (1030) got no message (contains='never') from the bot" in explanation
    assert "sendMessage → 400 Bad Request: can't parse entities" in explanation
    assert isinstance(caught.value, AssertionError)


# -- webhook ----------------------------------------------------------------------------------


async def test_webhook_delivery_with_secret_token(emu: Emulator) -> None:
    app = make_bot(emu)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg"
    await app.initialize()
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="tg", webhook_url=url, secret_token="s3cret"
    )
    await app.start()
    try:
        assert emu.bot.webhook is not None
        assert emu.bot.webhook.secret_token == "s3cret"
        user = emu.user(id=1040, first_name="Lia")
        await user.send("/start")
        assert (await user.wait_for_message()).buttons == ["Clientes", "Ajuda"]

        # The emulator now sends the wrong secret: PTB's webhook server refuses the update.
        await app.bot.set_webhook(url, secret_token="not-the-secret")
        await user.send("/start")
        assert await emu.state.wait_until(lambda: emu.bot.webhook.failures > 0, 2)
        info = await app.bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message.startswith("Wrong response from the webhook: 403")
        assert len(user.bot_messages) == 1

        # Put the right secret back: the waiting update goes through.
        await app.bot.set_webhook(url, secret_token="s3cret")
        await user.wait_for_message(contains="Bem-vindo", timeout=3)
        assert (await app.bot.get_webhook_info()).pending_update_count == 0
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_webhook_posts_json_with_the_secret_header(emu: Emulator) -> None:
    """What the emulator POSTs, as a plain web server (not PTB) receives it."""
    received: list[tuple[dict[str, object], str | None, str]] = []

    async def hook(request: Request) -> Response:
        headers = request.headers
        received.append((await request.json(), headers.get(SECRET_HEADER), headers["content-type"]))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with BackgroundServer(receiver) as receiver_origin:
        async with httpx.AsyncClient(base_url=emu.base_url + TOKEN) as client:
            answer = await client.post(
                "/setWebhook",
                json={"url": f"{receiver_origin}/hook", "secret_token": "abc_DEF-1"},
            )
            assert answer.json() == {"ok": True, "result": True}
            conflict = await client.post("/getUpdates", data={"timeout": "0"})
        assert conflict.status_code == 409
        assert conflict.json()["description"].startswith(
            "Conflict: can't use getUpdates method while webhook is active"
        )

        user = emu.user(id=1041, first_name="Mel")
        await user.send("/start")
        assert await emu.state.wait_until(lambda: bool(received), 2)

    update, secret, content_type = received[0]
    assert secret == "abc_DEF-1"
    assert content_type == "application/json"
    assert update["update_id"] == 1
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert update["message"]["from"]["first_name"] == "Mel"


async def test_get_updates_conflicts_with_a_webhook(emu: Emulator) -> None:
    app = make_bot(emu)
    async with app:
        await app.bot.set_webhook("http://127.0.0.1:9/never", secret_token="x")
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates(timeout=0)
        await app.bot.delete_webhook()
        assert await app.bot.get_updates(timeout=0) == ()


# -- flood control ----------------------------------------------------------------------------


# PTB's own RetryAfter warns about its future timedelta type; nothing to do with the emulator.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_wait_is_retried_by_aioratelimiter(emu: Emulator, bot: Application) -> None:
    emu.bot.flood = FloodControl(limit=2, per=1.0, retry_after=1)
    user = emu.user(id=1050, first_name="Nina")
    started = time.monotonic()

    await user.send("/burst")
    last = await user.wait_for_message(contains="parte 3/3", timeout=4)

    assert time.monotonic() - started >= 1.0
    assert [m.text for m in user.bot_messages] == ["parte 1/3", "parte 2/3", "parte 3/3"]
    assert last is user.last_message
    refused = emu.failed_calls
    assert [c.status for c in refused] == [429]
    assert refused[0].description == "Too Many Requests: retry after 1"


# -- the user side over HTTP (for the playground page) ----------------------------------------


async def test_user_side_json_endpoints(emu: Emulator, bot: Application) -> None:
    async with httpx.AsyncClient(base_url=f"{emu.origin}/_emulator") as client:
        bots = (await client.get("/bots")).json()["result"]
        assert [b["username"] for b in bots] == ["clientmgr_test_bot"]
        await client.post("/users", json={"id": 1060, "first_name": "Otto"})
        revision = (await client.get("/chats/1060")).json()["result"]["revision"]

        sent = await client.post("/chats/1060/messages", json={"text": "/start"})
        assert sent.json()["result"]["text"] == "/start"
        await emu.wait_idle()
        chat = (await client.get("/chats/1060", params={"after": revision})).json()["result"]
        welcome = chat["messages"][-1]
        assert welcome["from_bot"]
        assert welcome["html"] == "Bem-vindo, <b>Otto</b>! 👋"
        assert [b["text"] for b in welcome["buttons"][0]] == ["Clientes", "Ajuda"]

        pressed = await client.post(
            "/chats/1060/press", json={"label": "Ajuda", "message_id": welcome["message_id"]}
        )
        query_id = pressed.json()["result"]["callback_query"]["id"]
        await emu.wait_idle()
        chat = (await client.get("/chats/1060")).json()["result"]
        assert chat["messages"][-1]["edit_date"] is not None
        assert chat["callback_queries"][-1] == {
            "id": query_id,
            "message_id": welcome["message_id"],
            "data": "ajuda",
            "answered": True,
            "text": "Abrindo ajuda",
            "show_alert": False,
            "url": None,
        }

        upload = await client.post(
            "/chats/1060/files", files={"file": ("lista.csv", REPORT, "text/csv")}
        )
        document = upload.json()["result"]["document"]
        assert document["file_name"] == "lista.csv"
        assert (await client.get(document["url"].removeprefix("/_emulator"))).content == REPORT
        await emu.wait_idle()
        assert emu.user(id=1060, first_name="Otto").last_message.text.startswith("Recebi")

        missing = await client.post("/chats/4242/messages", json={"text": "oi"})
        assert missing.status_code == 404
        no_button = await client.post("/chats/1060/press", json={"label": "Nada"})
        assert no_button.status_code == 404


# -- the HTML parser on its own ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>oi</b> <i>x</i>", "oi x", [("bold", 0, 2), ("italic", 3, 1)]),
        ("&lt;b&gt; &amp; &foo; &#128512;", "<b> & &foo; 😀", []),
        ("😀<u>é</u>", "😀é", [("underline", 2, 1)]),
        ('<a href="https://x.y/?a=1&amp;b=2">link</a>', "link", [("text_link", 0, 4)]),
        ('<pre><code class="language-py">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ('<span class="tg-spoiler">s</span>', "s", [("spoiler", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("  <b> oi </b>\n", "oi", [("bold", 0, 2)]),
    ],
)
def test_parse_html_accepts_what_telegram_accepts(
    source: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed = strip_text(*parse_html(source))
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities
    assert parse_html(entities_to_html(parsed_text, parsed))[0] == parsed_text


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("é<x>", 'Unsupported start tag "x" at byte offset 2'),
        ("<b>aberto", 'Can\'t find end tag corresponding to start tag "b"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_parse_html_refuses_what_telegram_refuses(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error
