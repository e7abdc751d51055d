"""The web desk as an aiohttp sub-application, to be mounted under ``/desk/``.

Reads run on a read-only session in a thread; every change goes through the bot's own database
worker and the core's functions (``handlers.staff``, ``handlers.dispatching``), so the outbox
rows they queue are handed to the running bot's delivery at commit, exactly as a button press.
Every page and action checks the signed-in staff member's role and department on the server;
a ticket id in a URL is not a permission.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import BodyPartReader, web
from sqlalchemy.orm import Session

from bot.desk import session as desk_session
from bot.desk.photos import TelegramFiles, image_type
from bot.desk.words import ROLE_WORDS, event_word, word
from handlers import answer_review, dispatching, lifecycle, texts
from handlers import staff as staff_actions
from handlers.answer_check import AnswerCheck
from handlers.context import Hotline
from handlers.desk import token_digest
from handlers.display import mask_phone, mask_phones_in, show_datetime, show_deadline
from handlers.lifecycle import Move
from handlers.model import Language, RequestType, StaffMember, Ticket, TicketEvent, TicketStatus
from handlers.reports import Period, label
from handlers.statistics import department_names
from scheduler.calendar import SHANGHAI
from scheduler.clock import Clock
from scheduler.deadlines import local_date
from storage import desk as queries
from storage.database import Database
from storage.repository import SqlStore
from storage.statistics import compute_statistics

log = logging.getLogger(__name__)

T = TypeVar("T")
Run = Callable[[Callable[[SqlStore], T]], Awaitable[T]]
PAGE_SIZE = 50
CSV_LIMIT = 10_000
LANG_COOKIE = "hotline_desk_lang"
FLASH_COOKIE = "hotline_desk_flash"
HERE = Path(__file__).parent
# Nothing from another origin, no inline script (htmx is a file of the desk's own), no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The largest form the desk reads (a knowledge base CSV to import).
MAX_UPLOAD_MB = 4

STAFF = web.RequestKey("staff", StaffMember)
SESSION = web.RequestKey("session", desk_session.DeskSession)
FORM: web.RequestKey[dict[str, str]] = web.RequestKey("form")
UPLOAD: web.RequestKey[tuple[str, bytes]] = web.RequestKey("upload")  # a form's file


class DeskState:
    """What every handler needs: the bot's context and its way into the database."""

    def __init__(
        self,
        *,
        run: Run[Any],
        database: Database,
        hotline: Hotline,
        clock: Clock,
        secret: str,
        public_url: str,
        files: TelegramFiles | None = None,
    ) -> None:
        self.run = run
        self.database = database
        self.hotline = hotline
        self.clock = clock
        self.key = desk_session.desk_key(secret)
        self.secure = public_url.startswith("https://")
        self.files = files

    async def read(self, work: Callable[[Session], T]) -> T:
        """A read on a read-only session, in a thread (the event loop keeps serving)."""

        def job() -> T:
            with self.database.read() as session:
                return work(session)

        return await asyncio.to_thread(job)


STATE_KEY: web.AppKey[DeskState] = web.AppKey("desk", DeskState)


def desk_application(
    *,
    run: Run[Any],
    database: Database,
    hotline: Hotline,
    clock: Clock,
    secret: str,
    public_url: str,
    files: TelegramFiles | None = None,
) -> web.Application:
    """The desk, to be mounted with ``app.add_subapp("/desk/", desk_application(...))``.

    ``run`` is the bot's database worker's ``run`` (``HotlineApp.worker.run``): a change made
    here commits with its messages and is delivered at once. ``secret`` is the bot token (the
    cookie key is derived from it); ``public_url`` (HOTLINE_PUBLIC_URL) is where people reach
    the server: mounting the desk tells the hotline so, and /desk then answers with links.
    ``files`` fetches a ticket's photos from the Bot API (without it the desk shows none).
    """
    # Here, not at the top: the pages' modules use this one's helpers.
    from bot.desk import kb_pages, report_pages

    state = DeskState(
        run=run,
        database=database,
        hotline=hotline,
        clock=clock,
        secret=secret,
        public_url=public_url,
        files=files,
    )
    hotline.desk_url = public_url.rstrip("/")
    app = web.Application(middlewares=[_headers, _signed_in])
    app[STATE_KEY] = state

    async def close_files(_app: web.Application) -> None:
        if files is not None:
            await files.close()

    app.on_cleanup.append(close_files)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/", today, name="today")
    app.router.add_get("/today.png", today_chart, name="today_chart")
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/lang/{lang}", switch_language, name="lang")
    app.router.add_get("/tickets", ticket_list, name="tickets")
    app.router.add_get("/tickets.csv", ticket_csv, name="tickets_csv")
    app.router.add_get("/tickets.xlsx", ticket_xlsx, name="tickets_xlsx")
    app.router.add_get("/tickets/{id:\\d+}", ticket_page, name="ticket")
    app.router.add_get("/tickets/{id:\\d+}/photos/{item:\\d+}", ticket_photo, name="photo")
    app.router.add_post("/tickets/{id:\\d+}/{action}", ticket_action, name="action")
    kb_pages.add_routes(app)
    report_pages.add_routes(app)
    app.router.add_static("/static/", HERE / "static", name="static")
    return app


# -- middlewares ---------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = ("/login", "/static/", "/lang/")


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # The sign-in link's token is in the URL: no page sends its address anywhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    if "Cache-Control" not in response.headers and not request.path.endswith((".css", ".js")):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response


def _subpath(request: web.Request) -> str:
    """The path below the desk's mount point."""
    prefix = request.app.router["today"].url_for().path.rstrip("/")
    return request.path[len(prefix) :] or "/"


@web.middleware
async def _signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page but sign-in needs a live session of a current staff member; every form a
    valid CSRF token."""
    state = request.app[STATE_KEY]
    if _subpath(request).startswith(OPEN_PATHS):
        return await handler(request)
    now = state.clock.now()
    current = desk_session.read_session(
        state.key, request.cookies.get(desk_session.SESSION_COOKIE), now
    )
    if current is None:
        raise web.HTTPSeeOther(request.app.router["login"].url_for())
    staff = await state.read(lambda s: queries.active_staff(s, current.telegram_user_id))
    if staff is None:
        response = _render(request, "message.html", {"message": word("not_staff", _lang(request))})
        response.set_status(403)
        response.del_cookie(desk_session.SESSION_COOKIE, path=_cookie_path(request))
        return response
    request[STAFF] = staff
    request[SESSION] = current
    if request.method == "POST":
        try:
            form = await _read_form(request)
        except _TooLarge:
            message = word("too_large", _lang(request), mb=MAX_UPLOAD_MB)
            response = _render(request, "message.html", {"message": message})
            response.set_status(413)
            return response
        token = form.get("csrf")
        if not isinstance(token, str) or not desk_session.csrf_valid(state.key, current, token):
            response = _render(
                request, "message.html", {"message": word("bad_form", _lang(request))}
            )
            response.set_status(403)
            return response
        request[FORM] = form
    return await handler(request)


class _TooLarge(Exception):
    pass


async def _read_form(request: web.Request) -> dict[str, str]:
    """A form's fields; a file's (multipart) is kept under UPLOAD, read as a stream so that
    the server's request size limit (kept small for the webhook) does not apply to it."""
    if request.content_type != "multipart/form-data":
        form = await request.post()
        return {name: value for name, value in form.items() if isinstance(value, str)}
    fields: dict[str, str] = {}
    limit = MAX_UPLOAD_MB * 1024 * 1024
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = bytearray()
        while chunk := await part.read_chunk():
            data += chunk
            if len(data) > limit:
                raise _TooLarge
        if part.filename is not None:
            request[UPLOAD] = (part.filename, bytes(data))
        else:
            fields[part.name] = data.decode("utf-8", errors="replace")
    return fields


# -- rendering -----------------------------------------------------------------------------------


def _lang(request: web.Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def _cookie_path(request: web.Request) -> str:
    return str(request.app.router["today"].url_for())


def _context(request: web.Request) -> dict[str, Any]:
    lang = _lang(request)
    state = request.app[STATE_KEY]
    staff = request.get(STAFF)
    current = request.get(SESSION)
    return {
        "lang": lang,
        "page": "",
        "t": lambda key, **values: word(key, lang, **values),
        "url": lambda name, **parts: str(request.app.router[name].url_for(**parts)),
        "static": lambda path: str(request.app.router["static"].url_for(filename=path)),
        "staff": staff,
        "csrf": desk_session.csrf_token(state.key, current) if current else "",
        "here": request.path_qs,
        "status_name": lambda status: texts.status_name(TicketStatus(status), Language(lang)),
        "type_name": lambda kind: texts.request_type_name(RequestType(kind), Language(lang)),
        "unit_name": lambda code: state.hotline.department_name(code, Language(lang)) or "—",
        "show_datetime": show_datetime,
        "show_deadline": lambda ticket: show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        "event_word": lambda action: event_word(action, lang),
        "role_word": lambda role: word(ROLE_WORDS.get(str(role), "system_role"), lang),
        "map_url": map_url,
    }


def map_url(latitude: float, longitude: float) -> str:
    """A link (not an embed: nothing is loaded from the map's site) to the point on a map."""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def _render(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    # The context is built here, not by aiohttp_jinja2's context processors: their middleware
    # keeps it under a plain string key of the request, which aiohttp warns about.
    return aiohttp_jinja2.render_template(template, request, _context(request) | context)


def _staff(request: web.Request) -> StaffMember:
    return request[STAFF]


def _scope(staff: StaffMember) -> str | None:
    """The department whose tickets a staff member sees; None for a supervisor (all)."""
    return None if staff.is_supervisor else staff.department_code or ""


def _may_see(staff: StaffMember, ticket: Ticket) -> bool:
    return staff.may_handle(ticket)


# -- signing in and out ---------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """The link from Telegram opens a page with one button: a link preview or a mail scanner
    fetching the link does not use it up, only the person pressing the button does."""
    state = request.app[STATE_KEY]
    token = request.query.get("token", "")
    valid = False
    if token:
        now = state.clock.now()
        valid = await state.read(lambda s: _login_usable(s, token_digest(token), now))
    return _render(request, "login.html", {"token": token if valid else "", "asked": bool(token)})


def _login_usable(session: Session, digest: str, now: datetime) -> bool:
    from sqlalchemy import select

    from storage.models import DeskLoginRow

    row = session.execute(
        select(DeskLoginRow.used_at, DeskLoginRow.expires_at).where(
            DeskLoginRow.token_digest == digest
        )
    ).first()
    return row is not None and row.used_at is None and row.expires_at > now


async def login(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    form = await request.post()
    token = form.get("token")
    now = state.clock.now()
    user: int | None = None
    if isinstance(token, str) and token:
        digest = token_digest(token)
        user = await state.run(lambda store: queries.use_desk_login(store.session, digest, now))
    staff = await state.read(lambda s: queries.active_staff(s, user)) if user is not None else None
    if staff is None:
        response = _render(request, "login.html", {"token": "", "asked": True})
        response.set_status(403)
        return response
    log.info("desk: staff %s signed in", staff.telegram_user_id)
    current = desk_session.new_session(state.key, staff.telegram_user_id, now)
    response = web.HTTPSeeOther(request.app.router["today"].url_for())
    response.set_cookie(
        desk_session.SESSION_COOKIE,
        current.cookie,
        max_age=int(desk_session.SESSION_LENGTH.total_seconds()),
        path=_cookie_path(request),
        httponly=True,
        secure=state.secure,
        samesite="Strict",
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther(request.app.router["login"].url_for())
    response.del_cookie(desk_session.SESSION_COOKIE, path=_cookie_path(request))
    raise response


async def switch_language(request: web.Request) -> web.Response:
    lang = "en" if request.match_info["lang"] == "en" else "zh"
    back = request.query.get("next", "")
    # Only a path of this site: the switch is no open redirect.
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = str(request.app.router["today"].url_for())
    response = web.HTTPSeeOther(back)
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 86400, path=_cookie_path(request), samesite="Strict"
    )
    raise response


def _results_only(request: web.Request) -> bool:
    """Whether htmx asks for a list's results alone, as it does when the filters or a page link
    change (not when it restores a page of its history: that is the whole page again)."""
    return (
        request.headers.get("HX-Target") == "results"
        and "HX-History-Restore-Request" not in request.headers
    )


# -- today ---------------------------------------------------------------------------------------


async def today(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    now = state.clock.now()
    local = now.astimezone(SHANGHAI)
    day_start = datetime.combine(local.date(), datetime.min.time(), SHANGHAI)
    week_end = day_start + timedelta(days=7 - local.weekday())
    scope = _scope(staff)
    names = department_names(state.hotline, Language(lang))
    period = Period(local.date() - timedelta(days=29), local.date())

    def work(session: Session) -> tuple[queries.TodayCounts, list[tuple[str, list[str]]]]:
        counts = queries.today_counts(
            session, scope=scope, now=now, day_start=day_start, week_end=week_end
        )
        if scope == "":
            return counts, []  # staff of no unit: nothing of anyone's
        report = compute_statistics(
            session,
            period,
            now=now,
            targets=state.hotline.config.targets,
            department=scope,
            department_names=names,
        )
        below = [
            (row.name, [label(rate, lang) for rate in row.below_target])
            for row in report.departments
            if row.below_target
        ]
        return counts, below

    counts, below = await state.read(work)
    context = {"counts": counts, "below": below, "page": "today", "chart": scope != ""}
    return _render(request, "today.html", context | {"today_iso": local.date().isoformat()})


async def today_chart(request: web.Request) -> web.Response:
    """The chart /stats sends, of the last 30 days (a staff member's: their unit's)."""
    from bot.reports import render_chart  # matplotlib is slow to import

    state = request.app[STATE_KEY]
    scope = _scope(_staff(request))
    if scope == "":
        raise web.HTTPNotFound()
    lang = _lang(request)
    now = state.clock.now()
    local = local_date(now)
    period = Period(local - timedelta(days=29), local)

    def draw() -> bytes:
        with state.database.read() as session:
            report = compute_statistics(
                session,
                period,
                now=now,
                targets=state.hotline.config.targets,
                department=scope,
                department_names=department_names(state.hotline, Language(lang)),
            )
        return render_chart(report, lang=lang)

    return web.Response(body=await asyncio.to_thread(draw), content_type="image/png")


# -- the ticket list -------------------------------------------------------------------------------


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _filter(request: web.Request) -> tuple[queries.TicketFilter, dict[str, str]]:
    """The filters a query string asks for; what cannot be read is left out (and shown so)."""
    q = request.query
    status = q.get("status", "")
    kind = q.get("type", "")
    wanted = queries.TicketFilter(
        status=TicketStatus(status) if status in TicketStatus.__members__.values() else None,
        open_only=status == "open",
        department=q.get("unit", "") or None,
        request_type=RequestType(kind) if kind in RequestType.__members__.values() else None,
        received_from=_day(q.get("from", "")),
        received_to=_day(q.get("to", "")),
        overdue=q.get("overdue") == "1",
        search=q.get("q", "").strip()[:100],
    )
    shown = {
        "status": status,
        "unit": wanted.department or "",
        "type": kind,
        "from": wanted.received_from.isoformat() if wanted.received_from else "",
        "to": wanted.received_to.isoformat() if wanted.received_to else "",
        "overdue": "1" if wanted.overdue else "",
        "q": wanted.search,
    }
    return wanted, shown


def _page_number(request: web.Request) -> int:
    text = request.query.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isdigit() else 1


async def ticket_list(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    staff = _staff(request)
    wanted, shown = _filter(request)
    page = _page_number(request)
    now = state.clock.now()
    tickets, more = await state.read(
        lambda s: queries.list_tickets(
            s,
            wanted,
            scope=_scope(staff),
            now=now,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    )
    query = {k: v for k, v in shown.items() if v}
    partial = _results_only(request)
    response = _render(
        request,
        "ticket_results.html" if partial else "tickets.html",
        {
            "page": "tickets",
            "tickets": tickets,
            "shown": shown,
            "now": now,
            "page_number": page,
            "previous_qs": urlencode({**query, "page": page - 1}) if page > 1 else None,
            "next_qs": urlencode({**query, "page": page + 1}) if more else None,
            "export_qs": urlencode(query),
            "statuses": list(TicketStatus),
            "types": list(RequestType),
            "units": [d.code for d in state.hotline.config.departments.departments],
        },
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


async def _export_rows(request: web.Request) -> list[list[str]]:
    """The current view's tickets (up to 10,000) as rows with a header, phones masked."""
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = Language(_lang(request))
    wanted, _ = _filter(request)
    now = state.clock.now()
    tickets, _more = await state.read(
        lambda s: queries.list_tickets(
            s, wanted, scope=_scope(staff), now=now, offset=0, limit=CSV_LIMIT
        )
    )
    rows = [
        [word(k, lang.value) for k in ("number", "received", "type", "status", "unit", "deadline")]
        + [word("overdue", lang.value), word("text", lang.value)]
    ]
    rows += [
        [
            t.number,
            show_datetime(t.received_at),
            texts.request_type_name(t.request_type, lang),
            texts.status_name(t.status, lang),
            state.hotline.department_name(t.department_code, lang) or "",
            show_deadline(t.deadline_at, urgent=t.urgent),
            "1" if t.status.is_open and t.deadline_at < now else "",
            mask_phones_in(t.text),
        ]
        for t in tickets
    ]
    return rows


async def ticket_csv(request: web.Request) -> web.Response:
    """The current view as CSV."""
    out = io.StringIO()
    csv.writer(out).writerows(await _export_rows(request))
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode(),  # the BOM: Excel then reads it as UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


async def ticket_xlsx(request: web.Request) -> web.Response:
    """The current view as an Excel workbook."""
    rows = await _export_rows(request)
    return web.Response(
        body=await asyncio.to_thread(_workbook, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="tickets.xlsx"'},
    )


FORMULA = ("=", "+", "-", "@")


def _workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("tickets")
    for row in rows:
        # A text starting with = would be a formula in Excel: citizens' text stays text.
        sheet.append([f"'{cell}" if cell.startswith(FORMULA) else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- one ticket ------------------------------------------------------------------------------------


async def _visible_ticket(request: web.Request) -> Ticket:
    """The ticket of the URL if this staff member may see it; a 404 otherwise, the same for a
    ticket of another unit as for none at all (the id reveals nothing)."""
    state = request.app[STATE_KEY]
    ticket_id = int(request.match_info["id"])
    ticket = await state.read(lambda s: queries.one_ticket(s, ticket_id))
    if ticket is None or not _may_see(_staff(request), ticket):
        if ticket is not None:
            log.warning(
                "desk: staff %s refused ticket %s of another unit",
                _staff(request).telegram_user_id,
                ticket.id,
            )
        raise web.HTTPNotFound(text=word("not_found", _lang(request)), content_type="text/plain")
    return ticket


def _moves(staff: StaffMember, ticket: Ticket) -> list[str]:
    moves = [
        move.value
        for move in (Move.SIGN, Move.RETURN, Move.EXTEND, Move.RESOLVE)
        if lifecycle.allowed(move, ticket.status)
    ]
    if staff.is_supervisor and lifecycle.allowed(Move.DISPATCH, ticket.status):
        moves.insert(0, Move.DISPATCH.value)
    return moves


async def ticket_page(
    request: web.Request,
    *,
    phone: str | None = None,
    held: tuple[str, AnswerCheck] | None = None,
) -> web.Response:
    """The ticket; ``held``: an answer the pre-check stopped, back in the form with why."""
    state = request.app[STATE_KEY]
    ticket = await _visible_ticket(request)
    staff = _staff(request)

    def work(session: Session) -> tuple[list[queries.TimelineEntry], str | None]:
        citizen = queries.ticket_citizen(session, ticket)
        return queries.timeline(session, ticket.id), citizen.phone if citizen else None

    entries, full_phone = await state.read(work)
    flash = _take_flash(request)
    response = _render(
        request,
        "ticket.html",
        {
            "page": "tickets",
            "ticket": ticket,
            "entries": entries,
            "masked_phone": mask_phone(full_phone) if full_phone else None,
            "phone": phone,
            "moves": _moves(staff, ticket),
            "units": state.hotline.config.departments.departments,
            "flash": flash,
            "max_days": state.hotline.config.sla.max_extension_working_days,
            "draft": held[0] if held else "",
            "precheck": answer_review.reasons(held[1], Language(_lang(request))) if held else "",
            "may_send_anyway": held[1].may_send_anyway if held else False,
            "flagged": ",".join(f.value for f in held[1].flags) if held else "",
        },
    )
    if flash:
        response.del_cookie(FLASH_COOKIE, path=_cookie_path(request))
    return response


def _take_flash(request: web.Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        return base64.urlsafe_b64decode(raw.encode()).decode()[:500]
    except ValueError:
        return None


def _field(request: web.Request, name: str) -> str:
    return request[FORM].get(name, "").strip()


async def ticket_action(request: web.Request) -> web.Response:
    """One of the card's actions, through the core function the Telegram button calls."""
    state = request.app[STATE_KEY]
    ticket = await _visible_ticket(request)
    staff = _staff(request)
    action = request.match_info["action"]
    lang = Language(_lang(request))
    now = state.clock.now()
    hotline = state.hotline

    if action == "contact":
        phone = await state.run(lambda store: _show_contact(store, ticket.id, staff, now))
        return await ticket_page(request, phone=phone or word("no_phone", lang.value))

    reason, answer = _field(request, "reason"), _field(request, "answer")
    unit = _field(request, "unit")
    days_text = _field(request, "days")
    days = int(days_text) if days_text.isdigit() else 0
    needs = {
        "return": bool(reason),
        "extend": bool(reason) and days > 0,
        "resolve": bool(answer),
        "dispatch": bool(unit),
        "sign": True,
    }
    if action not in needs:
        raise web.HTTPNotFound()
    if action == "dispatch" and not staff.is_supervisor:
        raise web.HTTPForbidden(text=word("forbidden", lang.value), content_type="text/plain")
    if not needs[action]:
        return _back(request, ticket, word("form_incomplete", lang.value))

    def work(store: SqlStore) -> str:
        # The ticket and the staff member as they are now, in the action's transaction.
        current = store.ticket(ticket.id, lock=True)
        member = store.staff_member(staff.telegram_user_id)
        if current is None or member is None or not member.may_handle(current):
            staff_actions.refuse(store, ticket.id, staff.telegram_user_id, f"desk {action}", now)
            return texts.NO_RIGHTS(lang)
        match action:
            case "sign":
                signed = staff_actions.sign_for(store, hotline, current, member, now)
                return signed.callback_answer or ""
            case "return":
                return staff_actions.return_ticket(store, hotline, current, member, reason, now)
            case "extend":
                return staff_actions.request_extension(
                    store, hotline, current, member, days, reason, now
                )
            case "resolve":
                # 答复预检 as in Telegram: a flagged answer comes back to the form with why.
                done = answer_review.resolve_checked(
                    store,
                    hotline,
                    current,
                    member,
                    answer,
                    now,
                    anyway=_field(request, "anyway") == "1",
                    corrects=[f for f in _field(request, "flagged").split(",") if f] or None,
                )
                if isinstance(done, AnswerCheck):
                    held.append(done)
                    return ""
                return done
            case _:
                return _dispatch(store, hotline, current, member, unit, lang, now)

    held: list[AnswerCheck] = []
    message = await state.run(work)
    if held:
        return await ticket_page(request, held=(answer, held[0]))
    return _back(request, ticket, message)


def _dispatch(
    store: SqlStore,
    hotline: Hotline,
    ticket: Ticket,
    member: StaffMember,
    unit: str,
    lang: Language,
    now: datetime,
) -> str:
    if not member.is_supervisor:
        staff_actions.refuse(store, ticket.id, member.telegram_user_id, "desk dispatch", now)
        return texts.SUPERVISOR_ONLY(lang)
    if unit not in store.active_departments():
        return word("form_incomplete", lang.value)
    name = hotline.department_name(unit, lang) or unit
    if ticket.department_code == unit and ticket.status.is_open:
        return texts.ALREADY_THERE(lang, number=ticket.number, department=name)
    if not lifecycle.allowed(Move.DISPATCH, ticket.status):
        return staff_actions.move_refused(ticket, Move.DISPATCH, lang)
    dispatching.dispatch(store, hotline, ticket, unit, now, by=member)
    return texts.DISPATCHED(lang, number=ticket.number, department=name)


def _show_contact(store: SqlStore, ticket_id: int, staff: StaffMember, now: datetime) -> str | None:
    """The phone, to the one who asked, and the look logged (as the card's button does)."""
    ticket = store.ticket(ticket_id)
    if ticket is None:
        return None
    store.record(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_role=staff.role,
            actor_id=staff.telegram_user_id,
            action="contact_viewed",
            data={"via": "desk"},
        )
    )
    citizen = store.citizen(ticket.citizen_id)
    return citizen.phone if citizen else None


async def ticket_photo(request: web.Request) -> web.Response:
    """A photo of a ticket the staff member may see, from Telegram through the cache."""
    state = request.app[STATE_KEY]
    ticket = await _visible_ticket(request)
    item = int(request.match_info["item"])
    file_id = await state.read(lambda s: queries.photo_file(s, ticket.id, item))
    data = await state.files.get(file_id) if file_id and state.files is not None else None
    kind = image_type(data) if data is not None else None
    if data is None or kind is None:
        missing = word("photo_missing", _lang(request))
        raise web.HTTPNotFound(text=missing, content_type="text/plain")
    # The browser may keep it a while: a photo of a ticket never changes.
    cache = {"Cache-Control": "private, max-age=3600"}
    return web.Response(body=data, content_type=kind, headers=cache)


def _back(request: web.Request, ticket: Ticket, message: str) -> NoReturn:
    _flash_redirect(request, str(request.app.router["ticket"].url_for(id=str(ticket.id))), message)


def _flash_redirect(request: web.Request, location: str, message: str) -> NoReturn:
    """To ``location`` (after a form), with ``message`` shown once there."""
    response = web.HTTPSeeOther(location)
    response.set_cookie(
        FLASH_COOKIE,
        base64.urlsafe_b64encode(message.encode()).decode(),
        max_age=60,
        path=_cookie_path(request),
        httponly=True,
        samesite="Strict",
    )
    raise response
