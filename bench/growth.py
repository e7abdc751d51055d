"""Growth: ``python -m bench.growth`` from the project root.

Does the bot slow down as tickets pile up? For each database (SQLite file, PostgreSQL schema)
it bulk-loads tickets — ``executemany`` on SQLite, ``COPY`` on PostgreSQL (``bench._load``) —
into citizens, staff, tickets, assignments and ticket_counters: a year of tickets ending
yesterday, one citizen per three tickets, the built-in departments (skewed: the first ones get
more), statuses by age (recent ones open, old ones closed, about 1% of old ones still open and
overdue). Sizes grow cumulatively (``--sizes``, default 10k and 100k; ``--sizes 10000,100000,
1000000`` for the million).

At each size the real bot (``bot.runner.serve`` in its own process, ``bench._botproc``) runs
against the fake Bot API server with the operator's set-up done (office chat and department
chats bound, one staff member per department added with ``storage.admin.add_staff``), and four
operations are timed from the update being available to the bot's answer being sent:

* ``intake``: a new citizen's request → the ticket confirmation;
* ``/my``: a citizen with 40 tickets over the year → the list;
* ``/status NUMBER``: that citizen's own tickets, in turn → the ticket;
* ``/queue``: a staff member of the busiest department, in its group chat → the queue.

Then the SQL behind each operation is captured (the handler run in-process on the same
database inside a transaction that is rolled back), each statement is timed (median of 5) and
EXPLAINed (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``). The tables flag an operation
whose median grows ≥ 2× (and by ≥ 2 ms) from the smallest to the largest size, and the
statements that grow ≥ 3× (and by ≥ 0.3 ms), with their plans; an operation is "GROWS" only
if its SQL grows too (end-to-end medians on a shared 2-core machine are noisy). Only citizens,
staff, tickets, assignments and ticket_counters are loaded: ticket_items, ticket_events, outbox
and processed_updates stay small, so plans on those tables (e.g. PostgreSQL's seq scan of an
empty ticket_items) are not what production would get.

Defaults (10k and 100k, both databases, 30 samples per operation) take about 3–4 minutes on
the 2-core machine (~10 s of it per bot start, for aiogram's import); 1M adds about 5 minutes of
loading per database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bench._common import (
    BotProcess,
    RecordingServer,
    database_for,
    note,
    percentile,
    print_table,
    request_texts,
    wait_polling,
)
from bench._load import BulkLoader
from bot.app import build_hotline
from handlers import inbox
from handlers.config import HotlineConfig, load_config
from handlers.context import Hotline
from handlers.events import ChatKind, Content, IncomingMessage, Person
from handlers.model import RequestType, Role, TicketStatus
from scheduler.calendar import SHANGHAI, WorkingCalendar
from scheduler.deadlines import due_after_working_days
from storage.admin import add_staff, set_department_chat, set_office_chat
from storage.database import Database
from storage.departments import sync_departments
from storage.repository import SqlStore

OFFICE_CHAT = -1000
DEPARTMENT_CHAT_BASE = -2000
STAFF_USER_BASE = 7_000_000
LOADED_CITIZEN_BASE = 30_000_000
NEW_CITIZEN_BASE = 40_000_000
MY_TICKETS = 40  # the /my citizen's tickets, the same at every size
SEED = 12345
OPERATIONS = ("intake", "/my", "/status", "/queue")


# -- the data ----------------------------------------------------------------------------------


@dataclass
class Population:
    """What has been loaded so far; grows cumulatively from one size to the next."""

    texts: Sequence[str]
    departments: list[str]
    calendar: WorkingCalendar
    today: date
    staff: dict[str, tuple[int, int]] = field(default_factory=dict)  # dept → (id, tg id)
    loaded: int = 0
    citizens: int = 0
    day_counts: Counter[date] = field(default_factory=Counter)
    my_numbers: list[str] = field(default_factory=list)
    my_citizen_id: int = 0
    citizen_ranges: list[tuple[int, int]] = field(default_factory=list)  # loaded citizen ids
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    _deadlines: dict[date, datetime] = field(default_factory=dict)
    _sign_due: dict[date, datetime] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [self.today - timedelta(days=d) for d in range(1, 366)]

    def deadline(self, day: date) -> datetime:
        if day not in self._deadlines:
            noon = datetime.combine(day, dtime(12), tzinfo=SHANGHAI)
            self._deadlines[day] = due_after_working_days(noon, 7, self.calendar).due
            self._sign_due[day] = due_after_working_days(noon, 1, self.calendar).due
        return self._deadlines[day]

    def sign_due(self, day: date) -> datetime:
        self.deadline(day)
        return self._sign_due[day]


def status_for(age: int, rng: random.Random) -> TicketStatus:
    """Statuses by age in days: recent tickets are open, old ones closed, a few linger."""
    r = rng.random()
    table: tuple[tuple[float, TicketStatus], ...]
    if age <= 1:
        table = ((0.10, TicketStatus.RECEIVED), (0.40, TicketStatus.DISPATCHED))
        default = TicketStatus.IN_PROGRESS
    elif age <= 9:
        table = (
            (0.02, TicketStatus.RECEIVED),
            (0.07, TicketStatus.DISPATCHED),
            (0.62, TicketStatus.IN_PROGRESS),
            (0.87, TicketStatus.RESOLVED),
        )
        default = TicketStatus.CLOSED
    elif age <= 20:
        table = ((0.10, TicketStatus.IN_PROGRESS), (0.30, TicketStatus.RESOLVED))
        default = TicketStatus.CLOSED
    else:
        table = (
            (0.005, TicketStatus.DISPATCHED),
            (0.015, TicketStatus.IN_PROGRESS),
            (0.025, TicketStatus.RESOLVED),
            (0.035, TicketStatus.WITHDRAWN),
            (0.045, TicketStatus.MERGED),
        )
        default = TicketStatus.CLOSED
    for bound, status in table:
        if r < bound:
            return status
    return default


REQUEST_TYPES = [t.value for t in RequestType]
REQUEST_WEIGHTS = [30, 35, 20, 5, 10]


def load_tickets(loader: BulkLoader, pop: Population, target: int, chunk: int = 50_000) -> float:
    """Add tickets (and their citizens and assignments) until ``target`` are loaded."""
    started = time.perf_counter()
    rng = pop.rng
    ts, flag = loader.ts, loader.flag
    days = pop.days
    weights = [1.0 / (1 + i) ** 0.7 for i in range(len(pop.departments))]
    # Citizens: one per three tickets, the first one (the /my citizen) included.
    wanted = max(200, target // 3)
    next_citizen = loader.max_id("citizens") + 1
    first_citizen = next_citizen
    rows = []
    for i in range(pop.citizens, wanted):
        created = datetime.combine(days[-1], dtime(9), tzinfo=SHANGHAI)
        rows.append(
            (
                next_citizen,
                LOADED_CITIZEN_BASE + i,
                LOADED_CITIZEN_BASE + i,
                "zh",
                f"市民{i}",
                ts(created),
            )
        )
        next_citizen += 1
    loader.insert("citizens", rows)
    if pop.citizens == 0:
        pop.my_citizen_id = first_citizen
    if rows:
        pop.citizen_ranges.append((first_citizen, next_citizen - 1))
    all_citizens = pop.citizen_ranges
    pop.citizens = max(pop.citizens, wanted)

    next_ticket = loader.max_id("tickets") + 1
    next_assignment = loader.max_id("assignments") + 1
    my_citizen = pop.my_citizen_id
    remaining = target - pop.loaded
    while remaining > 0:
        n = min(chunk, remaining)
        tickets, assignments = [], []
        for _ in range(n):
            if len(pop.my_numbers) < MY_TICKETS:
                day = days[len(pop.my_numbers) * len(days) // MY_TICKETS]
                citizen = my_citizen
            else:
                day = days[rng.randrange(len(days))]
                lo, hi = all_citizens[rng.randrange(len(all_citizens))]
                citizen = rng.randint(lo, hi)
                if citizen == my_citizen:
                    citizen += 1
            age = (pop.today - day).days
            status = status_for(age, rng)
            received = datetime.combine(day, dtime(8), tzinfo=SHANGHAI) + timedelta(
                seconds=rng.randrange(12 * 3600)
            )
            pop.day_counts[day] += 1
            number = f"{day:%Y%m%d}-{pop.day_counts[day]:04d}"
            if citizen == my_citizen:
                pop.my_numbers.append(number)
            department = None
            signed_by = None
            updated = received
            resolved_at = closed_at = None
            if status not in (TicketStatus.RECEIVED, TicketStatus.WITHDRAWN):
                department = rng.choices(pop.departments, weights)[0]
                dispatched = received + timedelta(minutes=30)
                signed = None
                if status is not TicketStatus.DISPATCHED:
                    signed = dispatched + timedelta(hours=2)
                    signed_by = pop.staff[department][0]
                assignments.append(
                    (
                        next_assignment,
                        next_ticket,
                        department,
                        ts(dispatched),
                        None,
                        flag(True),
                        0.9,
                        ts(pop.sign_due(day)),
                        ts(signed),
                        signed_by,
                    )
                )
                next_assignment += 1
                updated = signed or dispatched
                if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.MERGED):
                    resolved_at = received + timedelta(days=3)
                    updated = resolved_at
                if status in (TicketStatus.CLOSED, TicketStatus.MERGED):
                    closed_at = received + timedelta(days=6)
                    updated = closed_at
            tickets.append(
                (
                    next_ticket,
                    number,
                    citizen,
                    rng.choices(REQUEST_TYPES, REQUEST_WEIGHTS)[0],
                    pop.texts[next_ticket % len(pop.texts)][:100],
                    status.value,
                    department,
                    flag(rng.random() < 0.005),
                    ts(received),
                    ts(pop.deadline(day)),
                    flag(False),
                    signed_by,
                    ts(resolved_at),
                    ts(closed_at),
                    0,
                    ts(updated),
                )
            )
            next_ticket += 1
        loader.insert("tickets", tickets)
        loader.insert("assignments", assignments)
        loader.commit()
        remaining -= n
        pop.loaded += n
    loader.set_counters(pop.day_counts.items())
    loader.finish()
    return time.perf_counter() - started


def prepare(url: str, config: HotlineConfig) -> dict[str, tuple[int, int]]:
    """The operator's set-up: departments, office and department chats, one staff each."""
    database = Database(url)
    staff: dict[str, tuple[int, int]] = {}
    now = datetime.now(UTC) - timedelta(days=400)
    with database.transaction() as session:
        sync_departments(session, config.departments)
        set_office_chat(session, OFFICE_CHAT)
        for i, department in enumerate(config.departments.departments):
            set_department_chat(session, department.code, DEPARTMENT_CHAT_BASE - i)
            member = add_staff(
                session,
                STAFF_USER_BASE + i,
                role=Role.STAFF,
                department=department.code,
                name=f"承办人{i}",
                now=now,
            )
            staff[department.code] = (member.id, member.telegram_user_id)
    database.dispose()
    return staff


# -- timing through the bot --------------------------------------------------------------------


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)


class Ops:
    """The four operations, pushed to the fake server one at a time."""

    def __init__(
        self,
        server: RecordingServer,
        pop: Population,
        config: HotlineConfig,
        texts: Sequence[str],
    ) -> None:
        self.server = server
        self.pop = pop
        self.texts = texts
        self.next_citizen = NEW_CITIZEN_BASE
        self.status_turn = 0
        self.my_user = server.user(LOADED_CITIZEN_BASE, first_name="市民0")
        busiest = pop.departments[0]
        index = [d.code for d in config.departments.departments].index(busiest)
        self.queue_chat = DEPARTMENT_CHAT_BASE - index
        self.staff_user = server.user(pop.staff[busiest][1], first_name="承办人")

    async def _timed(self, chat_id: int, push: Any) -> float:
        answer = self.server.next_send_to(chat_id)
        pushed = push()
        call = await asyncio.wait_for(answer, 30)
        return float(call.at - pushed.at)

    async def intake(self) -> float:
        user = self.server.user(self.next_citizen, first_name=f"新市民{self.next_citizen}")
        body = self.texts[self.next_citizen % len(self.texts)]
        self.next_citizen += 1
        return await self._timed(user.id, lambda: self.server.push_text(user, body))

    async def my(self) -> float:
        return await self._timed(
            self.my_user.id, lambda: self.server.push_text(self.my_user, "/my")
        )

    async def status(self) -> float:
        number = self.pop.my_numbers[self.status_turn % len(self.pop.my_numbers)]
        self.status_turn += 1
        return await self._timed(
            self.my_user.id, lambda: self.server.push_text(self.my_user, f"/status {number}")
        )

    async def queue(self) -> float:
        return await self._timed(
            self.queue_chat,
            lambda: self.server.push_text(self.staff_user, "/queue", chat_id=self.queue_chat),
        )


async def quiet(server: RecordingServer, seconds: float = 0.3) -> None:
    await server.wait_for_updates_confirmed(30)
    seen = len(server._calls)
    last = time.monotonic()
    while time.monotonic() - last < seconds:
        await asyncio.sleep(0.05)
        if any(c.method != "getUpdates" for c in server._calls[seen:]):
            last = time.monotonic()
        seen = len(server._calls)


async def time_operations(
    server: RecordingServer, url: str, ops: Ops, samples: int, warmup: int
) -> dict[str, list[float]]:
    bot = BotProcess("hotline", server.base_url, url)
    try:
        ready = await bot.start()
        await wait_polling(server)
        note(f"  bot ready after {ready['import_and_start_s']:.1f}s")
        results: dict[str, list[float]] = {}
        for name, op in (
            ("intake", ops.intake),
            ("/my", ops.my),
            ("/status", ops.status),
            ("/queue", ops.queue),
        ):
            values = []
            for i in range(warmup + samples):
                seconds = await op()
                if i >= warmup:
                    values.append(seconds)
                await quiet(server, 0.05)
            results[name] = values
        await bot.stop()
    finally:
        await bot.kill()
    return results


# -- the SQL behind each operation -------------------------------------------------------------


@dataclass
class Statement:
    op: str
    sql: str
    seconds: float | None
    plan: list[str]


_SKIP = re.compile(r"^(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", re.I)
_COST = re.compile(r"\(cost=[\d.]+\.\.[\d.]+ rows=(\d+) width=\d+\)")


def _messages(pop: Population, config: HotlineConfig, turn: int) -> dict[str, IncomingMessage]:
    base = 9_000_000_000 + turn * 10
    citizen = Person(LOADED_CITIZEN_BASE, "市民0", language_code="zh-hans")
    busiest = pop.departments[0]
    index = [d.code for d in config.departments.departments].index(busiest)
    staff = Person(pop.staff[busiest][1], "承办人", language_code="zh-hans")
    new = Person(NEW_CITIZEN_BASE - 1 - turn, "新市民", language_code="zh-hans")
    number = pop.my_numbers[turn % len(pop.my_numbers)]

    def msg(
        n: int, who: Person, chat: int, kind: ChatKind, text: str, **kw: Any
    ) -> IncomingMessage:
        return IncomingMessage(
            update_id=base + n,
            sender=who,
            chat_id=chat,
            chat_kind=kind,
            message_id=1,
            text=text,
            **kw,
        )

    return {
        "intake": msg(
            0,
            new,
            new.user_id,
            ChatKind.PRIVATE,
            pop.texts[turn % len(pop.texts)],
            content=Content.TEXT,
        ),
        "/my": msg(
            1,
            citizen,
            citizen.user_id,
            ChatKind.PRIVATE,
            "/my",
            content=Content.COMMAND,
            command="my",
        ),
        "/status": msg(
            2,
            citizen,
            citizen.user_id,
            ChatKind.PRIVATE,
            f"/status {number}",
            content=Content.COMMAND,
            command="status",
            command_args=number,
        ),
        "/queue": msg(
            3,
            staff,
            DEPARTMENT_CHAT_BASE - index,
            ChatKind.GROUP,
            "/queue",
            content=Content.COMMAND,
            command="queue",
        ),
    }


def _plan(conn: Any, sqlite: bool, sql: str, params: Any) -> list[str]:
    if sqlite:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return [str(r[-1]) for r in rows]
    rows = conn.exec_driver_sql("EXPLAIN " + sql, params).fetchall()
    return [_COST.sub(r"(rows=\1)", str(r[0])).rstrip() for r in rows]


def explain_operations(
    url: str, pop: Population, config: HotlineConfig, hotline: Hotline
) -> list[Statement]:
    """Run each operation's handler in a rolled-back transaction; time and EXPLAIN its SQL."""
    database = Database(url)
    out: list[Statement] = []
    try:
        for op, message in _messages(pop, config, 0).items():
            captured: list[tuple[str, Any]] = []

            def listen(
                conn: Any,
                cursor: Any,
                statement: str,
                params: Any,
                *rest: Any,
                captured: list[tuple[str, Any]] = captured,
            ) -> None:
                captured.append((statement, params))

            with database.engine.connect() as conn:
                trans = conn.begin()
                try:
                    session = Session(bind=conn)
                    event.listen(conn, "before_cursor_execute", listen)
                    try:
                        inbox.handle_message(SqlStore(session), hotline, message, datetime.now(UTC))
                        session.flush()
                    finally:
                        event.remove(conn, "before_cursor_execute", listen)
                    seen: set[str] = set()
                    for sql, params in captured:
                        if _SKIP.match(sql.strip()) or sql in seen:
                            continue
                        seen.add(sql)
                        plan = _plan(conn, database.is_sqlite, sql, params)
                        seconds = None
                        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
                            runs = []
                            for _ in range(5):
                                t0 = time.perf_counter()
                                result = conn.exec_driver_sql(sql, params)
                                if result.returns_rows:
                                    result.fetchall()
                                runs.append(time.perf_counter() - t0)
                            seconds = statistics.median(runs)
                        out.append(Statement(op, sql, seconds, plan))
                finally:
                    trans.rollback()
    finally:
        database.dispose()
    return out


def short_sql(sql: str, width: int = 96) -> str:
    flat = " ".join(sql.split())
    flat = re.sub(r"SELECT .+? FROM", "SELECT … FROM", flat, count=1)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


BIG_TABLES = ("tickets", "citizens", "assignments", "ticket_items", "ticket_events", "outbox")


def suspicious(plan: Sequence[str], sqlite: bool) -> str:
    """ "full scan" / "sorts" when a big table is read without an index or sorted afterwards."""
    text = " | ".join(plan)
    big = "|".join(BIG_TABLES)
    if sqlite:
        if re.search(rf"\bSCAN ({big})\b(?! USING (COVERING )?INDEX)", text):
            return "full scan"
        if "TEMP B-TREE FOR ORDER BY" in text and re.search(rf"\b({big})\b", text):
            return "sorts (temp b-tree)"
        return ""
    if re.search(rf"Seq Scan on ({big})\b", text):
        return "full scan"
    sorted_rows = [int(n) for n in re.findall(r"(?<!Incremental )Sort  \(rows=(\d+)\)", text)]
    if any(n >= 100 for n in sorted_rows) and re.search(rf" on ({big})\b", text):
        return f"sorts {max(sorted_rows):,} rows"
    return ""


# -- main --------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    backend: str
    size: int
    load_seconds: float
    timings: dict[str, list[float]]
    statements: list[Statement]


async def run_backend(
    backend: str,
    sizes: Sequence[int],
    server: RecordingServer,
    config: HotlineConfig,
    texts: Sequence[str],
    args: argparse.Namespace,
) -> list[SizeResult]:
    results = []
    hotline = build_hotline(config, secret="123:abc")
    with database_for(backend) as url:
        pop = Population(
            texts=texts,
            departments=[d.code for d in config.departments.departments],
            calendar=WorkingCalendar(config.calendar),
            today=datetime.now(SHANGHAI).date(),
        )
        pop.staff = prepare(url, config)
        database = Database(url)
        loader = BulkLoader(database)
        try:
            for size in sizes:
                note(f"{backend}: loading up to {size:,} tickets")
                seconds = load_tickets(loader, pop, size)
                note(f"{backend}: {size:,} tickets loaded ({seconds:.0f}s); timing the bot")
                ops = Ops(server, pop, config, texts)
                timings = await time_operations(server, url, ops, args.samples, args.warmup)
                statements = explain_operations(url, pop, config, hotline)
                results.append(SizeResult(backend, size, seconds, timings, statements))
                for op in OPERATIONS:
                    v = timings[op]
                    note(
                        f"  {op}: median {statistics.median(v) * 1000:.1f} ms, p95 "
                        f"{percentile(v, 95) * 1000:.1f} ms"
                    )
        finally:
            loader.close()
            database.dispose()
    return results


def report(results: list[SizeResult], args: argparse.Namespace) -> list[str]:
    flags: list[str] = []
    backends = sorted({r.backend for r in results}, key=["sqlite", "postgres"].index)
    for backend in backends:
        mine = [r for r in results if r.backend == backend]
        sizes = [r.size for r in mine]
        rows = []
        for op in OPERATIONS:
            medians = [statistics.median(r.timings[op]) * 1000 for r in mine]
            p95s = [percentile(r.timings[op], 95) * 1000 for r in mine]
            sql_ms = [
                sum(s.seconds or 0.0 for s in r.statements if s.op == op) * 1000 for r in mine
            ]
            grows = (
                len(mine) > 1 and medians[-1] >= 2 * medians[0] and medians[-1] - medians[0] >= 2
            )
            sql_grows = (
                len(mine) > 1 and sql_ms[-1] >= 1.5 * sql_ms[0] and sql_ms[-1] - sql_ms[0] >= 0.3
            )
            if grows and sql_grows:
                verdict = "GROWS"
            elif grows:
                verdict = "slower, SQL flat: noise?"
            elif sql_grows:
                verdict = "flat, SQL grows"
            else:
                verdict = "flat"
            if verdict != "flat":
                flags.append(
                    f"{backend}: {op}: {verdict}: median {medians[0]:.1f} → {medians[-1]:.1f} ms, "
                    f"its SQL {sql_ms[0]:.2f} → {sql_ms[-1]:.2f} ms from {sizes[0]:,} to "
                    f"{sizes[-1]:,} tickets"
                )
            rows.append(
                (
                    op,
                    *[f"{m:,.1f} / {p:,.1f}" for m, p in zip(medians, p95s, strict=True)],
                    " → ".join(f"{x:.2f}" for x in sql_ms),
                    verdict,
                )
            )
        print_table(
            ["operation", *[f"{s:,} tickets" for s in sizes], "its SQL ms", "verdict"],
            rows,
            f"{backend}: latency through the bot, median / p95 ms ({args.samples} samples each; "
            f"its SQL = the operation's SELECT/UPDATE time, in-process; "
            f"load times {', '.join(f'{r.load_seconds:.0f}s' for r in mine)})",
        )
        # Statements: time at each size, plan at the largest.
        by_key: dict[tuple[str, str], list[float | None]] = {}
        plans: dict[tuple[str, str], list[str]] = {}
        for r in mine:
            for s in r.statements:
                by_key.setdefault((s.op, s.sql), [None] * len(mine))
                by_key[(s.op, s.sql)][mine.index(r)] = s.seconds
                plans[(s.op, s.sql)] = s.plan
        rows = []
        responsible = []
        for (op, sql), times in by_key.items():
            plan = plans[(op, sql)]
            t0, t1 = times[0], times[-1]
            grows = (
                t0 is not None
                and t1 is not None
                and t1 >= 3 * t0
                and t1 - t0 >= 0.0003
                and len(mine) > 1
            )
            if grows:
                responsible.append((op, sql, plan, times))
            timed = sql.lstrip().upper().startswith(("SELECT", "UPDATE"))
            rows.append(
                (
                    op,
                    short_sql(sql, 100),
                    *["—" if t is None else f"{t * 1000:.2f}" for t in times],
                    ("GROWS " if grows else "")
                    + (suspicious(plan, backend == "sqlite") if timed else ""),
                )
            )
        print_table(
            ["op", "statement", *[f"ms @{s:,}" for s in sizes], "flag"],
            rows,
            f"{backend}: the SQL behind each operation, run in-process in a rolled-back "
            f"transaction (SELECT/UPDATE timed, median of 5; INSERTs not timed)",
        )
        label = "EXPLAIN QUERY PLAN" if backend == "sqlite" else "EXPLAIN"
        print(f"\n{backend}: {label} of each SELECT/UPDATE at {sizes[-1]:,} tickets")
        for (op, sql), _ in by_key.items():
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
                continue
            print(f"  [{op}] {short_sql(sql, 150)}")
            for line in plans[(op, sql)]:
                print(f"      {line}")
        for op, sql, plan, times in responsible:
            flags.append(
                f"{backend}: {op}: statement grows "
                + " → ".join(f"{t * 1000:.2f} ms" for t in times if t is not None)
                + f": {short_sql(sql, 200)}"
            )
            print(
                f"\n{backend}: {op}: a statement that grows — full SQL and plan at {sizes[-1]:,}:"
            )
            print("  " + " ".join(sql.split()))
            for line in plan:
                print(f"    {line}")
    return flags


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.growth", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="ticket counts, ascending (default 10000,100000)"
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--samples", type=int, default=30, help="timed operations of each kind")
    parser.add_argument("--warmup", type=int, default=3, help="untimed operations first")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    texts = request_texts()
    config = load_config(None)
    results: list[SizeResult] = []
    async with RecordingServer() as server:
        server.group(OFFICE_CHAT, "热线办")
        for i, department in enumerate(config.departments.departments):
            server.group(DEPARTMENT_CHAT_BASE - i, f"{department.name_zh}工作群")
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            results += await run_backend(backend, sizes, server, config, texts, args)
    print(
        f"\nbench.growth: sizes {', '.join(f'{s:,}' for s in sizes)}; a year of tickets ending "
        f"yesterday, {len(config.departments.departments)} departments, a citizen per 3 tickets; "
        f"latency = update available in the fake server → the bot's answer sent"
    )
    flags = report(results, args)
    print("\nFlags:" if flags else "\nNo operation or statement grows with the ticket count.")
    for flag in flags:
        print(f"  {flag}")
    print(f"\nbench.growth took {time.perf_counter() - started:.0f}s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
