"""The desk's 知识库: list and search, add, edit, retire, import and export, through the same
core as ``/kb_add``, ``/kb_edit``, ``/kb_off`` and ``hotline kb import``/``export``
(``Store.save_kb_entry``, ``handlers.knowledge_io``, ``handlers.knowledge_staff.may_change``).

Staff own their department's entries, supervisors all of them. A change commits on the bot's
database worker, which drops the running bot's cached index at commit: the next question is
matched against the new entry.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from bot.desk.app import (
    FLASH_COOKIE,
    FORM,
    STATE_KEY,
    UPLOAD,
    _cookie_path,
    _flash_redirect,
    _lang,
    _render,
    _results_only,
    _staff,
    _take_flash,
)
from bot.desk.words import word
from handlers.knowledge import KnowledgeEntry
from handlers.knowledge_io import (
    MAX_ANSWER,
    MAX_QUESTION,
    KnowledgeFileError,
    format_entries,
    parse_entry_lines,
)
from handlers.knowledge_staff import may_change, new_entry_key
from handlers.model import Language, StaffMember
from scheduler.deadlines import local_date
from storage.knowledge import KnowledgeVersion, get_entry, history, load_entries
from storage.repository import SqlStore

SEARCH_CHARS = 100
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；\n|]")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/kb", knowledge_base, name="kb")
    app.router.add_get("/kb/new", new_entry_page, name="kb_new")
    app.router.add_post("/kb/new", add_entry)
    app.router.add_get("/kb/edit", edit_entry_page, name="kb_edit")
    app.router.add_post("/kb/edit", edit_entry)
    app.router.add_post("/kb/active", set_entry_active, name="kb_active")
    app.router.add_get("/kb/export.csv", export_entries, name="kb_export")
    app.router.add_post("/kb/import", import_file, name="kb_import")


def _who(staff: StaffMember) -> str:
    return f"desk {staff.name or staff.telegram_user_id}"


def _list_url(request: web.Request) -> str:
    return str(request.app.router["kb"].url_for())


def _entry_url(request: web.Request, key: str) -> str:
    """The list searched for one entry: where a change is seen."""
    return f"{_list_url(request)}?{urlencode({'q': key})}"


# -- the list -------------------------------------------------------------------------------------


async def knowledge_base(request: web.Request) -> web.Response:
    """The entries, searched by every word; each one its owner may edit with a link to it."""
    state = request.app[STATE_KEY]
    staff = _staff(request)
    search = request.query.get("q", "").strip()[:SEARCH_CHARS]
    entries = await state.read(load_entries)
    words = search.lower().split()

    def matches(entry: KnowledgeEntry) -> bool:
        haystack = " ".join(
            (entry.id, entry.question, entry.answer, *entry.alternatives, *entry.keywords)
        ).lower()
        return all(w in haystack for w in words)

    today = local_date(state.clock.now())
    found = [entry for entry in entries if matches(entry)]
    partial = _results_only(request)
    flash = _take_flash(request)
    response = _render(
        request,
        "kb_results.html" if partial else "kb.html",
        {
            "page": "kb",
            "entries": found,
            "search": search,
            "today": today,
            "flash": flash,
            "may_change": lambda entry: may_change(staff, entry.department),
        },
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    if flash:
        response.del_cookie(FLASH_COOKIE, path=_cookie_path(request))
    return response


# -- one entry ------------------------------------------------------------------------------------


def _departments(request: web.Request, staff: StaffMember) -> list[str]:
    """The units an entry of this staff member may belong to ("" for every unit)."""
    if staff.is_supervisor:
        codes = [d.code for d in request.app[STATE_KEY].hotline.config.departments.departments]
        return ["", *codes]
    return [staff.department_code or ""]


def _form_page(
    request: web.Request,
    *,
    entry: KnowledgeEntry | None,
    values: dict[str, str],
    error: str | None = None,
    versions: list[KnowledgeVersion] | None = None,
    status: int = 200,
) -> web.Response:
    response = _render(
        request,
        "kb_form.html",
        {
            "page": "kb",
            "entry": entry,
            "values": values,
            "error": error,
            "versions": versions or [],
            "departments": _departments(request, _staff(request)),
        },
    )
    response.set_status(status)
    return response


def _values_of(entry: KnowledgeEntry) -> dict[str, str]:
    return {
        "question": entry.question,
        "answer": entry.answer,
        "alternatives": "\n".join(entry.alternatives),
        "keywords": "、".join(entry.keywords),
        "department": entry.department or "",
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else "",
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else "",
    }


def _from_form(request: web.Request, key: str, base: KnowledgeEntry | None) -> KnowledgeEntry | str:
    """The entry the form describes, or what is wrong with it (in the desk's language)."""
    form = request[FORM]
    lang = _lang(request)
    staff = _staff(request)
    question = " ".join(form.get("question", "").split())
    answer = form.get("answer", "").strip().replace("\r\n", "\n")
    if not question or not answer:
        return word("form_incomplete", lang)
    if len(question) > MAX_QUESTION:
        return word("kb_too_long", lang, field=word("kb_question", lang), limit=MAX_QUESTION)
    if len(answer) > MAX_ANSWER:
        return word("kb_too_long", lang, field=word("kb_answer", lang), limit=MAX_ANSWER)
    try:
        valid_from = _day(form.get("valid_from", ""))
        valid_until = _day(form.get("valid_until", ""))
    except ValueError:
        return word("kb_bad_dates", lang)
    if valid_from and valid_until and valid_until < valid_from:
        return word("kb_bad_dates", lang)
    department = form.get("department", "")
    if department not in _departments(request, staff):
        # A staff member's entries are their unit's, whatever a forged form says.
        return word("kb_not_yours", lang, entry=key)
    alternatives = tuple(
        dict.fromkeys(
            " ".join(line.split())
            for line in form.get("alternatives", "").splitlines()
            if line.strip()
        )
    )
    keywords = tuple(
        dict.fromkeys(part.strip() for part in _KEYWORD_SEPARATORS.split(form.get("keywords", "")))
    )
    entry = KnowledgeEntry(
        id=key,
        question=question,
        answer=answer,
        department=department or None,
        alternatives=tuple(a for a in alternatives if a != question),
        keywords=tuple(k for k in keywords if k),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    # An edit keeps what the form does not show (whether the entry is in use).
    return entry if base is None else replace(entry, active=base.active)


def _day(text: str) -> date | None:
    return date.fromisoformat(text.strip()) if text.strip() else None


async def new_entry_page(request: web.Request) -> web.Response:
    staff = _staff(request)
    return _form_page(request, entry=None, values={"department": staff.department_code or ""})


async def add_entry(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    form = request[FORM]
    key = new_entry_key(" ".join(form.get("question", "").split()))
    entry = _from_form(request, key, None)
    if isinstance(entry, str):
        return _form_page(request, entry=None, values=form, error=entry, status=400)
    now = state.clock.now()

    def work(store: SqlStore) -> str | None:
        member = store.staff_member(staff.telegram_user_id)
        if member is None or not may_change(member, entry.department):
            return word("kb_not_yours", lang, entry=key)
        if store.kb_entry(key) is not None:
            return None
        store.save_kb_entry(entry, now=now, via=_who(member), staff_id=member.id)
        return ""

    refused = await state.run(work)
    if refused is None:
        return _form_page(
            request, entry=None, values=form, error=word("kb_exists", lang, entry=key), status=409
        )
    if refused:
        return _form_page(request, entry=None, values=form, error=refused, status=403)
    _flash_redirect(request, _entry_url(request, key), word("kb_saved", lang, entry=key))


async def edit_entry_page(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    key = request.query.get("entry", "")
    lang = _lang(request)

    def read(session: Session) -> tuple[KnowledgeEntry | None, list[KnowledgeVersion]]:
        entry = get_entry(session, key)
        return entry, history(session, key) if entry is not None else []

    entry, versions = await state.read(read)
    if entry is None:
        raise web.HTTPNotFound(text=word("kb_not_found", lang, entry=key[:64]))
    if not may_change(_staff(request), entry.department):
        raise web.HTTPForbidden(text=word("kb_not_yours", lang, entry=key))
    return _form_page(request, entry=entry, values=_values_of(entry), versions=versions)


async def edit_entry(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    form = request[FORM]
    key = form.get("entry", "")
    now = state.clock.now()

    def work(store: SqlStore) -> tuple[int, str, KnowledgeEntry | None]:
        entry = store.kb_entry(key)
        member = store.staff_member(staff.telegram_user_id)
        if entry is None:
            return 404, word("kb_not_found", lang, entry=key[:64]), None
        if member is None or not may_change(member, entry.department):
            return 403, word("kb_not_yours", lang, entry=key), entry
        changed = _from_form(request, key, entry)
        if isinstance(changed, str):
            return 400, changed, entry
        if not may_change(member, changed.department):
            return 403, word("kb_not_yours", lang, entry=key), entry
        outcome = store.save_kb_entry(changed, now=now, via=_who(member), staff_id=member.id)
        phrase = "kb_unchanged" if outcome == "unchanged" else "kb_saved"
        return 200, word(phrase, lang, entry=key), changed

    status, message, entry = await state.run(work)
    if status == 404:
        raise web.HTTPNotFound(text=message)
    if status != 200:
        return _form_page(request, entry=entry, values=form, error=message, status=status)
    _flash_redirect(request, _entry_url(request, key), message)


async def set_entry_active(request: web.Request) -> web.Response:
    """停用 (retire) or 恢复 (restore): the entry stays, with its history; the bot stops or
    starts answering with it."""
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    form = request[FORM]
    key = form.get("entry", "")
    active = form.get("active") == "1"
    now = state.clock.now()

    def work(store: SqlStore) -> str:
        entry = store.kb_entry(key)
        member = store.staff_member(staff.telegram_user_id)
        if entry is None:
            return word("kb_not_found", lang, entry=key[:64])
        if member is None or not may_change(member, entry.department):
            return word("kb_not_yours", lang, entry=key)
        store.save_kb_entry(
            replace(entry, active=active), now=now, via=_who(member), staff_id=member.id
        )
        return word("kb_restored_done" if active else "kb_retired_done", lang, entry=key)

    message = await state.run(work)
    back = form.get("back", "")
    location = back if back.startswith(_list_url(request)) else _list_url(request)
    _flash_redirect(request, location, message)


# -- import and export -----------------------------------------------------------------------------


async def export_entries(request: web.Request) -> web.Response:
    """The entries this staff member may change (a supervisor: all), as ``hotline kb export``
    writes them, so that the file comes back in through the import."""
    state = request.app[STATE_KEY]
    staff = _staff(request)
    entries = [e for e in await state.read(load_entries) if may_change(staff, e.department)]
    return web.Response(
        body=("\ufeff" + format_entries(entries)).encode(),  # the BOM: Excel reads UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="knowledge-base.csv"'},
    )


async def import_file(request: web.Request) -> web.Response:
    """A CSV as ``hotline kb import`` reads it: one bad row names its line and nothing is
    imported. A staff member's rows are their unit's: a row without a unit becomes one, a row
    of another unit (or updating another unit's entry) refuses the file."""
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    upload = request.get(UPLOAD)
    if upload is None or not upload[1]:
        _flash_redirect(request, _list_url(request), word("kb_import_no_file", lang))
    name = upload[0].replace("/", "_")[-80:] or "kb.csv"
    try:
        text = upload[1].decode("utf-8-sig")
    except UnicodeDecodeError:
        reason = word("kb_import_not_text", lang)
        _flash_redirect(request, _list_url(request), _refused(lang, name, reason))
    codes = state.hotline.config.departments.codes
    try:
        rows = parse_entry_lines(text, known_departments=codes)
    except KnowledgeFileError as exc:
        _flash_redirect(request, _list_url(request), _refused(lang, name, str(exc)))
    if not staff.is_supervisor:
        rows = [
            (line, e if e.department else replace(e, department=staff.department_code))
            for line, e in rows
        ]
    now = state.clock.now()

    def work(store: SqlStore) -> str:
        member = store.staff_member(staff.telegram_user_id)
        if member is None:
            return _refused(lang, name, word("not_staff", lang))
        # Every row is checked before any is saved: a refusal leaves the base as it was.
        for line, entry in rows:
            stored = store.kb_entry(entry.id)
            owners = [entry.department] + ([stored.department] if stored is not None else [])
            for department in owners:
                if not may_change(member, department):
                    unit = state.hotline.department_name(department, Language(lang)) or word(
                        "kb_no_department", lang
                    )
                    reason = word(
                        "kb_import_other_unit", lang, line=line, entry=entry.id, unit=unit
                    )
                    return _refused(lang, name, reason)
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for _line, entry in rows:
            outcome = store.save_kb_entry(
                entry, now=now, via=f"{_who(member)}: import {name}", staff_id=member.id
            )
            counts[outcome] += 1
        return word("kb_imported", lang, name=name, **counts)

    _flash_redirect(request, _list_url(request), await state.run(work))


def _refused(lang: str, name: str, reason: str) -> str:
    return word("kb_import_refused", lang, name=name, reason=reason)
