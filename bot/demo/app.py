"""``/demo/``: three chats of the fake Telegram in one page, where a visitor plays every part.

Nothing here talks to the bot: what the visitor types or presses becomes an update on the fake
Bot API server (as a Telegram app would send it), the bot long-polls it from there like any
update, and the panes show the chats as the server holds them — every message the bot sent,
with its edits, inline keyboards and force-replies. The page works without JavaScript (forms,
then a reload); ``demo.js`` posts the forms in place and long-polls ``live`` for changes.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.demo.stage import DEMO_LOCATION, DEMO_PHONE, Cast, Pane
from bot.demo.words import EXAMPLES, word
from bot.fake_bot_api import FakeTelegramServer
from scheduler.calendar import SHANGHAI

HERE = Path(__file__).parent
LANG_COOKIE = "hotline_demo_lang"
MAX_TEXT = 4096  # Telegram's limit for a message
LONG_POLL = 25.0  # seconds a ``live`` request waits for a change
# As the desk's, plus its own script and the requests that script makes (same origin only).
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class DemoState:
    server: FakeTelegramServer
    cast: Cast
    # The latest button press in each pane, whose answer (the "toast") the pane shows.
    pressed: dict[str, str] = field(default_factory=dict)
    # Set when the server shuts down: a waiting long poll answers then, not 25 s later.
    closing: bool = False

    def version(self) -> str:
        """Changes whenever a pane would look different: a message sent, edited or pushed, a
        button answered."""
        world = self.server.world
        answered = sum(1 for q in world.callback_queries.values() if q["answer"] is not None)
        return f"{len(world.events)}.{world.last_update_id}.{answered}"


STATE: web.AppKey[DemoState] = web.AppKey("demo", DemoState)


def demo_application(server: FakeTelegramServer, cast: Cast) -> web.Application:
    """The demo, to be mounted with ``app.add_subapp("/demo/", ...)``."""
    app = web.Application(middlewares=[_headers, _same_origin])
    app[STATE] = state = DemoState(server, cast)

    async def closing(_: web.Application) -> None:
        state.closing = True
        server.world.message_signal.notify()

    app.on_shutdown.append(closing)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/", page, name="page")
    app.router.add_get("/live", live, name="live")
    app.router.add_post("/say", say, name="say")
    app.router.add_post("/press", press, name="press")
    app.router.add_post("/share", share, name="share")
    app.router.add_get("/lang/{lang}", switch_language, name="lang")
    app.router.add_get("/files/{file_id}", file, name="file")
    app.router.add_static("/static/", HERE / "static", name="static")
    return app


# -- middlewares ---------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if "/static/" not in request.path:
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def _same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The demo has no sign-in (everyone plays everyone), but another site open in the same
    browser must not post into it: a form from elsewhere carries its own Origin."""
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="cross-site request refused")
    return await handler(request)


# -- pages ---------------------------------------------------------------------------------------


def _lang(request: web.Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def _context(request: web.Request) -> dict[str, Any]:
    lang = _lang(request)
    router = request.app.router
    return {
        "lang": lang,
        "t": lambda key: word(key, lang),
        "url": lambda name, **parts: str(router[name].url_for(**parts)),
        "static": lambda name: str(router["static"].url_for(filename=name)),
        "examples": [word(key, lang) for key in EXAMPLES],
    }


async def page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    context = _context(request)
    panes = [_pane_view(state, pane, context) for pane in state.cast.panes]
    return aiohttp_jinja2.render_template(
        "demo.html", request, {**context, "panes": panes, "version": state.version()}
    )


async def live(request: web.Request) -> web.Response:
    """The panes as HTML once they differ from the version the page has (a long poll)."""
    state = request.app[STATE]
    seen = request.query.get("after", "")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LONG_POLL
    while state.version() == seen and loop.time() < deadline and not state.closing:
        # Sends and edits wake it at once; a pushed update or an answered button is seen at
        # the next half second.
        await state.server.world.message_signal.wait(min(0.5, deadline - loop.time()))
    context = _context(request)
    panes = {
        pane.key: aiohttp_jinja2.render_string(
            "pane.html", request, {**context, "pane": _pane_view(state, pane, context)}
        )
        for pane in state.cast.panes
    }
    return web.json_response({"version": state.version(), "panes": panes})


async def switch_language(request: web.Request) -> web.Response:
    lang = "en" if request.match_info["lang"] == "en" else "zh"
    response = web.HTTPSeeOther(request.app.router["page"].url_for())
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Strict")
    raise response


async def file(request: web.Request) -> web.Response:
    """A photo or file the bot sent (a chart, a workbook), from the fake server's store."""
    stored = request.app[STATE].server.file(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    name = str(stored.info.get("file_name") or stored.file_path.rsplit("/", 1)[-1])
    kind = str(
        stored.info.get("mime_type")
        or mimetypes.guess_type(name)[0]
        or ("image/jpeg" if stored.kind == "photo" else "application/octet-stream")
    )
    how = "inline" if kind.startswith("image/") else "attachment"
    headers = {"Content-Disposition": f"{how}; filename*=UTF-8''{quote(name)}"}
    return web.Response(body=stored.content, content_type=kind, headers=headers)


# -- what the visitor does -----------------------------------------------------------------------


class _Refused(Exception):
    """Input a Telegram app could not have sent (an old page, a forged form)."""


async def _act(request: web.Request, act: Callable[[DemoState, Pane, Any], None]) -> web.Response:
    """Run an action of the form's pane, then answer the script (204) or the plain form (back
    to the page at that pane)."""
    state = request.app[STATE]
    form = await request.post()
    pane = state.cast.pane(str(form.get("pane", "")))
    status = 204
    try:
        if pane is None:
            raise _Refused
        act(state, pane, form)
    except _Refused:
        status = 409
    if request.headers.get("X-Requested-With") == "demo":
        if status != 204:
            return web.json_response({"error": word("bad_input", _lang(request))}, status=status)
        return web.Response(status=204)
    target = request.app.router["page"].url_for()
    raise web.HTTPSeeOther(f"{target}#{pane.key if pane else ''}")


def _message_id(value: Any, pane: Pane, state: DemoState) -> int | None:
    """A message of the pane's chat, or None when the field is empty."""
    if value in (None, ""):
        return None
    try:
        message_id = int(str(value))
    except ValueError:
        raise _Refused from None
    if state.server.message(pane.chat_id, message_id) is None:
        raise _Refused
    return message_id


async def say(request: web.Request) -> web.Response:
    lang = _lang(request)

    def act(state: DemoState, pane: Pane, form: Any) -> None:
        text = str(form.get("text", "")).strip()[:MAX_TEXT]
        if not text:
            return
        reply_to = _message_id(form.get("reply_to"), pane, state)
        chat_id = None if pane.chat_id == pane.actor.id else pane.chat_id
        state.server.push_text(pane.as_speaker(lang), text, chat_id=chat_id, reply_to=reply_to)

    return await _act(request, act)


async def press(request: web.Request) -> web.Response:
    lang = _lang(request)

    def act(state: DemoState, pane: Pane, form: Any) -> None:
        message_id = _message_id(form.get("message_id"), pane, state)
        data = str(form.get("data", ""))
        if message_id is None:
            raise _Refused
        try:
            pushed = state.server.press_button(
                pane.as_speaker(lang), message_id, data, chat_id=pane.chat_id
            )
        except AssertionError:  # the button is gone (the card moved on): as in the apps
            raise _Refused from None
        state.pressed[pane.key] = pushed.update["callback_query"]["id"]

    return await _act(request, act)


async def share(request: web.Request) -> web.Response:
    """A reply-keyboard button that shares the citizen's own phone, or a location."""
    lang = _lang(request)

    def act(state: DemoState, pane: Pane, form: Any) -> None:
        speaker = pane.as_speaker(lang)
        chat_id = None if pane.chat_id == pane.actor.id else pane.chat_id
        what = form.get("what")
        if what == "contact":
            state.server.push_contact(
                speaker, DEMO_PHONE, speaker.first_name, user_id=speaker.id, chat_id=chat_id
            )
        elif what == "location":
            state.server.push_location(speaker, *DEMO_LOCATION, chat_id=chat_id)
        else:
            raise _Refused

    return await _act(request, act)


# -- what a pane shows ---------------------------------------------------------------------------


@dataclass
class MessageView:
    id: int
    mine: bool  # sent by the visitor (else by the bot)
    sender: str
    time: str
    html: Markup
    edited: bool
    quote: str | None
    buttons: list[list[dict[str, str]]]
    asks_reply: bool
    media: list[dict[str, str]]


@dataclass
class PaneView:
    key: str
    chat_title: str
    actor: str
    messages: list[MessageView]
    force_reply: MessageView | None  # the latest question the bot asked as a force-reply
    keyboard: list[dict[str, str]]  # a reply keyboard's buttons
    toast: str | None


def _pane_view(state: DemoState, pane: Pane, context: dict[str, Any]) -> PaneView:
    server = state.server
    chat = server.world.chats[pane.chat_id]
    t: Callable[[str], str] = context["t"]
    messages: list[MessageView] = []
    force_reply: MessageView | None = None
    keyboard: list[dict[str, str]] = []
    for message_id in sorted(chat.messages):
        message = chat.messages[message_id]
        sender = message.get("from") or {}
        mine = not sender.get("is_bot", False)
        markup = server.api.markups.get((pane.chat_id, message_id)) or {}
        view = MessageView(
            id=message_id,
            mine=mine,
            sender=str(sender.get("first_name", "")) if mine else t("bot"),
            time=datetime.fromtimestamp(message.get("date", 0), UTC)
            .astimezone(SHANGHAI)
            .strftime("%H:%M"),
            html=formatted(
                message.get("text") or message.get("caption") or "",
                message.get("entities") or message.get("caption_entities") or [],
            ),
            edited="edit_date" in message,
            quote=_quote(message.get("reply_to_message")),
            buttons=_inline_buttons(message),
            asks_reply=bool(markup.get("force_reply")),
            media=_media(message, context, t),
        )
        messages.append(view)
        if mine:
            if force_reply is not None and message.get("reply_to_message", {}).get(
                "message_id"
            ) == (force_reply.id):
                force_reply = None  # answered
            continue
        if view.asks_reply:
            force_reply = view
        if "keyboard" in markup:
            keyboard = [b for row in markup["keyboard"] for b in row if isinstance(b, dict)]
        elif markup.get("remove_keyboard"):
            keyboard = []
    toast = None
    query = state.pressed.get(pane.key)
    if query is not None:
        answer = server.callback_answer(query)
        toast = (answer or {}).get("text") or None
    return PaneView(
        key=pane.key,
        chat_title=str(chat.chat.get("title") or chat.chat.get("first_name") or ""),
        actor=pane.actor.first_name,
        messages=messages,
        force_reply=force_reply,
        keyboard=keyboard,
        toast=toast,
    )


def _quote(message: dict[str, Any] | None) -> str | None:
    if not message:
        return None
    text = str(message.get("text") or message.get("caption") or "…")
    return text if len(text) <= 60 else text[:59] + "…"


def _inline_buttons(message: dict[str, Any]) -> list[list[dict[str, str]]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    shown: list[list[dict[str, str]]] = []
    for row in rows:
        line = []
        for button in row:
            if "callback_data" in button:
                line.append({"text": button["text"], "data": button["callback_data"]})
            elif str(button.get("url", "")).startswith(("https://", "http://")):
                line.append({"text": button["text"], "url": button["url"]})
        if line:
            shown.append(line)
    return shown


def _media(
    message: dict[str, Any], context: dict[str, Any], t: Callable[[str], str]
) -> list[dict[str, str]]:
    url: Callable[..., str] = context["url"]
    if message.get("photo"):
        biggest = message["photo"][-1]["file_id"]
        return [{"kind": "photo", "url": url("file", file_id=biggest), "label": t("photo")}]
    if message.get("document"):
        document = message["document"]
        label = str(document.get("file_name") or t("document"))
        return [{"kind": "file", "url": url("file", file_id=document["file_id"]), "label": label}]
    if message.get("location"):
        where = message["location"]
        label = f"{t('location')} {where['latitude']:.4f}, {where['longitude']:.4f}"
        return [{"kind": "note", "url": "", "label": label}]
    if message.get("contact"):
        label = f"{t('contact')} {message['contact'].get('phone_number', '')}"
        return [{"kind": "note", "url": "", "label": label}]
    return []


# -- Telegram's formatting -----------------------------------------------------------------------

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
}


def _tags(entity: dict[str, Any], text: str) -> tuple[str, str] | None:
    kind = entity.get("type")
    if kind in _TAGS:
        return _TAGS[str(kind)]
    if kind in ("text_link", "url"):
        target = str(entity.get("url") or text)
        if target.startswith(("https://", "http://")):
            return f'<a href="{escape(target)}" rel="noopener noreferrer">', "</a>"
    return None


def formatted(text: str, entities: list[dict[str, Any]]) -> Markup:
    """A message's text as HTML, its entities (offsets in UTF-16 code units) as tags; the text
    itself is escaped."""
    units = text.encode("utf-16-le")

    def part(start: int, end: int) -> str:
        return units[2 * start : 2 * end].decode("utf-16-le", errors="replace")

    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    # Outer entities first where two start together, so that the tags nest.
    for entity in sorted(entities, key=lambda e: (e.get("offset", 0), -e.get("length", 0))):
        start = int(entity.get("offset", 0))
        end = start + int(entity.get("length", 0))
        tags = _tags(entity, part(start, end))
        if tags is None:
            continue
        opens.setdefault(start, []).append(tags[0])
        closes.setdefault(end, []).insert(0, tags[1])
    cuts = sorted({0, len(units) // 2, *opens, *closes})
    out: list[str] = []
    for here, following in zip(cuts, [*cuts[1:], cuts[-1]], strict=True):
        out.extend(closes.get(here, []))
        out.extend(opens.get(here, []))
        if following > here:
            out.append(str(escape(part(here, following))))
    return Markup("".join(out))
