"""质检: each working day the office inspects a random sample of the previous working day's
answers, marking each 合格 or 不合格 (with a reason). The pass rate is one of the three numbers
the hotline is judged on (95% in 建塘镇's report). The sample comes with the day's 答复预检
figures (handlers.answer_review): warnings, answers sent anyway, corrected answers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from handlers import texts
from handlers.buttons import BadButton, ButtonAction
from handlers.context import Hotline
from handlers.dispatching import office_chats, office_language
from handlers.display import shorten
from handlers.events import ButtonPress, IncomingMessage
from handlers.model import Language, Role, SentMessage, StaffMember, TicketEvent
from handlers.outgoing import Button, Method, Outgoing, Reaction
from handlers.ports import Store
from handlers.staff import prompted, refuse
from scheduler.calendar import SHANGHAI
from scheduler.deadlines import local_date

# The answer pre-check's events (handlers.answer_review), counted with the day's sample.
PRECHECK_ACTIONS = ("answer_flagged", "answer_sent_anyway", "answer_edited")


def previous_working_day(hotline: Hotline, today: date) -> date:
    day = date.fromordinal(today.toordinal() - 1)
    while not hotline.calendar.is_working_day(day):
        day = date.fromordinal(day.toordinal() - 1)
    return day


def sample_size(total: int, share: float, minimum: int) -> int:
    """The configured share of the day's answers, rounded up, at least ``minimum``."""
    if total == 0:
        return 0
    return min(total, max(minimum, math.ceil(total * share)))


@dataclass(frozen=True, slots=True)
class AnswerCheckFigures:
    """答复预检 of a day's answers: warnings given, answers sent anyway (ticket → the flags
    they were sent with) and corrected answers."""

    flagged: int = 0
    sent_anyway: dict[int, list[str]] = field(default_factory=dict)
    edited: int = 0


def answer_checks(store: Store, start: datetime, end: datetime) -> AnswerCheckFigures:
    events = store.answer_check_events(start, end, PRECHECK_ACTIONS)
    anyway: dict[int, list[str]] = {}
    for e in events:
        if e.action == "answer_sent_anyway" and e.ticket_id is not None:
            flags = (e.data or {}).get("flags")
            anyway[e.ticket_id] = [str(f) for f in flags] if isinstance(flags, list) else []
    return AnswerCheckFigures(
        flagged=sum(e.action == "answer_flagged" for e in events),
        sent_anyway=anyway,
        edited=sum(e.action == "answer_edited" for e in events),
    )


def _sent_anyway_note(checks: AnswerCheckFigures, ticket_id: int, lang: Language) -> str:
    """Inspectors see that the answer went out over the pre-check's warning, and why."""
    if ticket_id not in checks.sent_anyway:
        return ""
    return texts.QA_ITEM_SENT_ANYWAY(
        lang, reasons=texts.flag_names(checks.sent_anyway[ticket_id], lang)
    )


def sample_previous_day(store: Store, hotline: Hotline, now: datetime) -> int:
    """Draw today's sample once (the job key makes a second sweep or instance skip it)."""
    today = local_date(now)
    if not hotline.calendar.is_working_day(today):
        return 0
    if not store.claim_job("qa_sample", today.isoformat(), now):
        return 0
    day = previous_working_day(hotline, today)
    start = datetime.combine(day, time(0), SHANGHAI)
    resolved = store.resolutions_between(start, start + timedelta(days=1))
    quality = hotline.config.quality
    count = sample_size(len(resolved), quality.sample_share, quality.min_sample)
    if count == 0:
        return 0
    # Seeded by the day: the draw can be explained (and repeated) afterwards.
    sample = random.Random(f"qa-{day.isoformat()}").sample(resolved, count)
    lang = office_language(hotline)
    chats = office_chats(store)
    header = texts.QA_HEADER(lang, day=day.isoformat(), total=len(resolved), count=count)
    checks = answer_checks(store, start, start + timedelta(days=1))
    if checks.flagged:
        header += "\n" + texts.QA_PRECHECK(
            lang,
            day=day.isoformat(),
            flagged=checks.flagged,
            anyway=len(checks.sent_anyway),
            edited=checks.edited,
        )
    for chat_id in chats:
        store.queue(Outgoing(chat_id=chat_id, text=header, purpose="qa"), now)
    for item in sorted(sample, key=lambda r: r.resolution_id):
        check_id = store.add_quality_check(item, sampled_for=day, now=now)
        if check_id is None:
            continue
        sign = hotline.buttons.sign
        for chat_id in chats:
            store.queue(
                Outgoing(
                    chat_id=chat_id,
                    text=texts.QA_ITEM(
                        lang,
                        number=item.number,
                        department=hotline.department_name(item.department_code, lang) or "",
                        text=shorten(item.text, 600),
                        answer=shorten(item.answer, 1500),
                    )
                    + _sent_anyway_note(checks, item.ticket_id, lang),
                    buttons=(
                        (
                            Button(texts.BUTTON_QA_PASS(lang), sign("qa", check_id, "pass")),
                            Button(texts.BUTTON_QA_FAIL(lang), sign("qa", check_id, "fail")),
                        ),
                    ),
                    ticket_id=item.ticket_id,
                    purpose="qa",
                    tag=str(check_id),
                ),
                now,
            )
    return count


def on_qa_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    check = store.quality_check(action.int_arg(0), lock=True)
    if check is None or len(action.args) != 2 or action.args[1] not in {"pass", "fail"}:
        raise BadButton("malformed quality-check button")
    inspector = store.staff_member(press.sender.user_id)
    if inspector is None or not inspector.is_supervisor:
        refuse(store, check.ticket_id, press.sender.user_id, "QA by a non-supervisor", now)
        lang = inspector.language if inspector else office_language(hotline)
        return Reaction(texts.SUPERVISOR_ONLY(lang), callback_alert=True)
    lang = inspector.language
    if check.passed is not None:
        return Reaction(texts.QA_DONE_ALREADY(lang), callback_alert=True)
    ticket = store.ticket(check.ticket_id)
    number = ticket.number if ticket else ""
    chat_id = press.chat_id if press.chat_id is not None else inspector.telegram_user_id
    if action.args[1] == "fail":
        office_lang = office_language(hotline)
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=texts.ASK_QA_REASON(office_lang, number=number),
                force_reply=True,
                mention=prompted(inspector, chat_id),
                ticket_id=check.ticket_id,
                purpose="ask_qa_reason",
                tag=str(check.id),
            ),
            now,
        )
        return Reaction()
    _decide(store, hotline, check.id, check.ticket_id, inspector, True, None, now)
    if press.chat_id is not None and press.message_id is not None:
        store.queue(
            Outgoing(
                chat_id=press.chat_id,
                method=Method.EDIT_TEXT,
                edit_message_id=press.message_id,
                text=texts.QA_PASSED(
                    office_language(hotline), name=inspector.name or inspector.telegram_user_id
                )
                + f" {number}",
                purpose="qa",
            ),
            now,
        )
    return Reaction(texts.QA_RECORDED(lang))


def on_qa_reason(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    prompt: SentMessage,
    inspector: StaffMember,
    now: datetime,
) -> None:
    lang = office_language(hotline)
    reason = msg.text.strip()
    check = store.quality_check(int(prompt.tag or 0), lock=True)
    if check is None:
        return
    if not reason:
        store.queue(
            Outgoing(
                chat_id=msg.chat_id,
                text=texts.REASON_NEEDED(lang),
                force_reply=True,
                reply_to_message_id=msg.message_id,
                ticket_id=check.ticket_id,
                purpose="ask_qa_reason",
                tag=str(check.id),
            ),
            now,
        )
        return
    if check.passed is not None:
        text = texts.QA_DONE_ALREADY(lang)
    else:
        _decide(store, hotline, check.id, check.ticket_id, inspector, False, reason, now)
        text = texts.QA_FAILED(
            lang, name=inspector.name or inspector.telegram_user_id, reason=reason
        )
    store.queue(Outgoing(chat_id=msg.chat_id, text=text, reply_to_message_id=msg.message_id), now)


def _decide(
    store: Store,
    hotline: Hotline,
    check_id: int,
    ticket_id: int,
    inspector: StaffMember,
    passed: bool,
    reason: str | None,
    now: datetime,
) -> None:
    store.decide_quality(check_id, passed=passed, reason=reason, inspector=inspector.id, now=now)
    store.record(
        TicketEvent(
            ticket_id=ticket_id,
            at=now,
            actor_role=Role.SUPERVISOR,
            actor_id=inspector.telegram_user_id,
            action="quality_passed" if passed else "quality_failed",
            reason=reason,
        )
    )
