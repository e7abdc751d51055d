"""What supervisors read: /stats and /export in Telegram, the 08:30 digest, and the alert when a
department's 30-day rate drops below target (once, and once more when it recovers)."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import texts
from handlers.assessment import AssessmentSettings, previous_period
from handlers.context import Hotline
from handlers.dispatching import office_chats, office_language
from handlers.events import IncomingMessage
from handlers.model import Language, StaffMember
from handlers.outgoing import Method, Outgoing
from handlers.ports import Outbox, Statistics, Store
from handlers.quality import previous_working_day
from handlers.reports import (
    Period,
    PeriodError,
    ReportRequest,
    ReportTargets,
    StatisticsReport,
    format_report_text,
    parse_period,
    period_label,
)
from handlers.supervisor import overdue_lines
from scheduler.calendar import SHANGHAI
from scheduler.deadlines import local_date

ALERT_METRICS = ("on_time", "satisfaction")
ALERT_WINDOW_DAYS = 30


def department_names(hotline: Hotline, lang: Language) -> dict[str, str]:
    return {
        d.code: (d.name_en if lang is Language.EN else d.name_zh)
        for d in hotline.config.departments.departments
    }


def report(
    store: Statistics, hotline: Hotline, period: Period, now: datetime, lang: Language
) -> StatisticsReport:
    return store.statistics(
        period,
        now=now,
        targets=hotline.config.targets,
        names=department_names(hotline, lang),
    )


def _period_from(
    store: Outbox, msg: IncomingMessage, staff: StaffMember, now: datetime, default: str
) -> Period | None:
    try:
        return parse_period(msg.command_args.strip() or default, local_date(now))
    except PeriodError as exc:
        store.queue(
            Outgoing(
                chat_id=msg.chat_id,
                text=exc.message(staff.language.value),
                reply_to_message_id=msg.message_id,
            ),
            now,
        )
        return None


def stats_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/stats [period]: a compact table, then a chart of the same figures."""
    request = _asked_report(store, hotline, msg, staff, now)
    if request is None:
        return
    lang = staff.language
    table = _counted(msg, Method.SEND_MESSAGE, "", lang, request, "stats_text", purpose="stats")
    store.queue(table, now)
    caption = texts.STATS_CAPTION(lang, label=request.period.label)
    chart = _counted(msg, Method.SEND_PHOTO, caption, lang, request, "stats_chart", purpose="stats")
    store.queue(chart, now)


def export_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/export [period]: the workbook (summary and tickets, phones masked)."""
    request = _asked_report(store, hotline, msg, staff, now)
    if request is None:
        return
    lang = staff.language
    caption = texts.EXPORT_CAPTION(lang, label=request.period.label)
    book = _counted(
        msg, Method.SEND_DOCUMENT, caption, lang, request, "export_xlsx", purpose="export"
    )
    assert book.render is not None  # narrowing only: _counted always sets what to render
    book.render["assessment"] = AssessmentSettings.of(hotline.config.assessment).to_dict()
    store.queue(book, now)


def ranking_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/ranking [period]: the 红黑榜 (default: last month), counted when it is sent."""
    period = _period_from(store, msg, staff, now, "last-month")
    if period is None:
        return
    names = department_names(hotline, staff.language)
    targets = ReportTargets.of(hotline.config.targets)
    request = ReportRequest(period=period, asked_at=now, targets=targets, names=names)
    before = ReportRequest(
        period=previous_period(period), asked_at=now, targets=targets, names=names
    )
    store.queue(
        Outgoing(
            chat_id=msg.chat_id,
            text="",
            render={
                "renderer": "ranking_text",
                "lang": staff.language.value,
                "request": request.to_dict(),
                "previous": before.to_dict(),
                "assessment": AssessmentSettings.of(hotline.config.assessment).to_dict(),
            },
            purpose="stats",
        ),
        now,
    )


def briefing_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/briefing [period]: the 通报 (default: last week), counted when it is sent."""
    period = _period_from(store, msg, staff, now, "last-week")
    if period is None:
        return
    store.queue(_briefing(hotline, msg.chat_id, period, now, staff.language), now)


def _briefing(
    hotline: Hotline, chat_id: int, period: Period, now: datetime, lang: Language
) -> Outgoing:
    request = ReportRequest(
        period=period,
        asked_at=now,
        targets=ReportTargets.of(hotline.config.targets),
        names=department_names(hotline, lang),
    )
    return Outgoing(
        chat_id=chat_id,
        text="",
        render={"renderer": "briefing_text", "lang": lang.value, "request": request.to_dict()},
        purpose="briefing",
    )


def send_weekly_briefing(store: Store, hotline: Hotline, now: datetime) -> bool:
    """Every Monday from the digest's time on (a holiday too: the 通报 is weekly): last
    week's 通报 to the office chats, once."""
    local = now.astimezone(SHANGHAI)
    if local.weekday() != 0 or local.time() < hotline.config.scheduler.digest_time:
        return False
    monday = local.date() - timedelta(days=7)
    if not store.claim_job("briefing", monday.isoformat(), now):
        return False
    period = Period(monday, monday + timedelta(days=6))
    lang = office_language(hotline)
    for chat_id in office_chats(store):
        store.queue(_briefing(hotline, chat_id, period, now, lang), now)
    return True


def _asked_report(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> ReportRequest | None:
    """The report the command asks for (default: this month); None when the period could
    not be read (the supervisor has been told why)."""
    period = _period_from(store, msg, staff, now, "month")
    if period is None:
        return None
    return ReportRequest(
        period=period,
        asked_at=now,
        targets=ReportTargets.of(hotline.config.targets),
        names=department_names(hotline, staff.language),
    )


def _counted(
    msg: IncomingMessage,
    method: Method,
    text: str,
    lang: Language,
    request: ReportRequest,
    renderer: str,
    *,
    purpose: str,
) -> Outgoing:
    """A message the delivery completes from the report, counted as it is sent: the text,
    chart and workbook of one request are drawn from one count."""
    return Outgoing(
        chat_id=msg.chat_id,
        method=method,
        text=text,
        render={"renderer": renderer, "lang": lang.value, "request": request.to_dict()},
        purpose=purpose,
    )


def digest_due(hotline: Hotline, now: datetime) -> bool:
    local = now.astimezone(SHANGHAI)
    return (
        hotline.calendar.is_working_day(local.date())
        and local.time() >= hotline.config.scheduler.digest_time
    )


def send_digest(store: Store, hotline: Hotline, now: datetime) -> bool:
    """Once each working day: the figures since the last digest and what is overdue."""
    today = local_date(now)
    if not digest_due(hotline, now) or not store.claim_job("digest", today.isoformat(), now):
        return False
    lang = office_language(hotline)
    # From the previous working day up to yesterday: Monday's digest covers the weekend too.
    start = previous_working_day(hotline, today)
    end = today - timedelta(days=1)
    period = Period(start, end, period_label(start, end))
    figures = format_report_text(report(store, hotline, period, now, lang), lang.value)
    overdue = overdue_lines(store, hotline, now, lang, limit=3000 - len(figures))
    text = "\n".join([texts.DIGEST_HEADER(lang), figures, "", *overdue])
    for chat_id in office_chats(store):
        store.queue(Outgoing(chat_id=chat_id, text=text[:4096], purpose="digest"), now)
    return True


def check_alerts(store: Store, hotline: Hotline, now: datetime) -> int:
    """Each department's 30-day on-time and satisfaction rates against target: an alert when
    one falls below, once, and a note when it recovers (not a daily repeat)."""
    today = local_date(now)
    if not digest_due(hotline, now) or not store.claim_job("alerts", today.isoformat(), now):
        return 0
    lang = office_language(hotline)
    start = today - timedelta(days=ALERT_WINDOW_DAYS)
    end = today - timedelta(days=1)
    result = report(store, hotline, Period(start, end, period_label(start, end)), now, lang)
    messages = []
    for row in result.departments:
        assert row.department is not None  # narrowing only: the overall row is not among these
        for metric in ALERT_METRICS:
            rate = row.on_time_rate if metric == "on_time" else row.satisfaction_rate
            if rate.value is None or rate.target is None:
                continue
            was_below = store.alert_state(row.department, metric)
            if rate.below == bool(was_below):
                continue
            store.set_alert_state(row.department, metric, below=rate.below, now=now)
            if not rate.below and was_below is None:
                continue  # first look, and fine: nothing to say
            phrase = texts.ALERT_BELOW if rate.below else texts.ALERT_RECOVERED
            messages.append(
                phrase(
                    lang,
                    department=row.name,
                    metric=texts.METRIC_NAMES[metric](lang),
                    value=f"{rate.value:.1%}",
                    target=f"{rate.target:.0%}",
                )
            )
    for chat_id in office_chats(store):
        for text in messages:
            store.queue(Outgoing(chat_id=chat_id, text=text, purpose="alert"), now)
    return len(messages)
