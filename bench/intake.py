"""Intake throughput: ``python -m bench.intake`` from the project root.

One run starts the fake Bot API server (``bot.fake_bot_api``) in this process, then, one
after the other and each in its own process (``bench._botproc``):

1. ``echo``: a bare aiogram bot (a Dispatcher whose one handler answers ``message.answer(text)``,
   started with ``dp.start_polling(bot, handle_as_tasks=True)``) — the baseline; with
   ``--echo2`` also ``echo×2``, the same bot sending each text to a group chat as well (two
   messages per update, as the hotline's confirmation and card);
2. ``hotline/sqlite``: ``bot.runner.serve`` on a fresh SQLite file (``Database(url).upgrade()``);
3. ``hotline/postgres``: the same on a fresh PostgreSQL schema (``options=-csearch_path=…``),
   dropped afterwards;
4. ``hotline/postgres webhook``: the same in webhook mode (``--webhook``): the fake server POSTs
   each update to the bot's aiohttp server as it becomes available, up to the bot's
   ``max_connections`` (100) requests at once, and keeps it until answered 200
   (``--no-webhook`` leaves this row out).

Simulated citizens send requests whose texts are read at run time from
``HOTLINE_DATA/requests/unlabeled.csv`` (texts over 4,000 characters are left out: Telegram's
limit is 4,096). Every request comes from a new citizen, because a citizen's second message
while a ticket is open is answered with "add to the ticket or new request?" by design. Two
loads, each ``--requests`` long:

* ``burst``: every request is pushed at once, then the bot drains them;
* ``pool``: ``--pool`` citizens in flight (closed loop: each confirmation lets the next citizen
  write), the issue's "200 simulated citizens".

``--rate R --seconds S`` runs a steady load instead: R requests a second from distinct citizens
for S seconds, on a fixed schedule whatever the answers (open loop: a busy day's stream, where
what a citizen feels is latency), for the echo bot and the hotline alike; the target is a p95
from update to confirmation under 150 ms at 50 requests a second.

Per bot and load it prints: requests per second end to end (from the moment the update is
available in the fake server to the server's record of the ``sendMessage`` to that citizen —
the ticket confirmation for the hotline, the echo for the baseline), p50/p95/p99 of that
latency, CPU per request of the bot process (all threads, ``getrusage`` in the bot process), of
the fake server (this process: server + simulated citizens, ``time.process_time``) and, on
PostgreSQL, of the database backends serving the bot (``/proc/<pid>/stat`` of the backends
tagged with the bot's ``application_name``), the bot's peak RSS, and hotline / echo throughput.
CPU windows run from the first push until the bot has gone quiet (its office and department
messages included), so CPU/request is everything the bot spends on a request.

The hotline runs as deployed (``--setup deployed``, default): the office chat and every
department's group chat are bound, so each ticket also sends its dispatch message or card, as in
production; ``--setup bare`` leaves them unbound (the hotline then logs a warning per ticket).
Sweeps are off (``schedule=False``) so that the timing is the intake's alone. Both bots log at
WARNING through ``bot.logging_setup``. A warm-up of ``--warmup`` requests precedes the loads.

Checks (a failure is printed and the exit status is 1): every request became exactly one ticket
(tickets counted in the database, one per citizen, numbers unique), every citizen got exactly
one message — the confirmation, with its number — and the numbers are unique; the echo bot
answered each citizen once with their own text.

``--profile`` then runs the ``pool`` load once more per backend with ``py-spy record`` attached
to the hotline process and prints where its CPU time goes (per thread, by library, and the
hottest functions).

Defaults (1,000 requests per load from 1,000 citizens, pool of 200, both backends) take about
1 minute on the 2-core benchmark machine — the hotline's runs dominate (it handles about 100
requests a second), plus ~5 s per bot process for aiogram's import; ``--profile`` adds about
half a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench._common import (
    NUMBER,
    BackendCpu,
    BotProcess,
    RecordingServer,
    fmt,
    note,
    percentile,
    postgres_url,
    print_table,
    request_texts,
    sent_text,
    sqlite_url,
    wait_polling,
)
from bot.fake_bot_api import Call, FakeUser
from handlers.config import HotlineConfig, load_config
from storage.admin import set_department_chat, set_office_chat
from storage.database import Database
from storage.departments import sync_departments
from storage.models import RoutingExampleRow, TicketRow

OFFICE_CHAT = -1000
WEBHOOK_PATH = "/telegram/hook"
WEBHOOK_URL = f"https://bench.invalid{WEBHOOK_PATH}"  # the fake server POSTs to --listen
DEPARTMENT_CHAT_BASE = -2000
FIRST_CITIZEN = 10_000_000


@dataclass
class LoadResult:
    bot: str
    load: str
    requests: int
    seconds: float
    latencies: list[float]
    bot_cpu: float
    server_cpu: float
    db_cpu: float | None
    peak_rss_kb: int = 0
    jobs: int = 0
    batches: int = 0
    repeat: int = 0
    sql: dict[str, int] = field(default_factory=dict)
    group_messages: int = 0  # sent to group chats (cards, dispatch requests, lists; echo×2's)
    bot_gc: float = 0.0  # of bot_cpu, the seconds in the garbage collector

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Failures:
    messages: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.messages.append(message)
            note(f"CHECK FAILED: {message}")


# -- simulated citizens ------------------------------------------------------------------------


class Citizens:
    """Hands out new citizens (one request each) and their request texts."""

    def __init__(self, server: RecordingServer, texts: Sequence[str]) -> None:
        self.server = server
        self.texts = texts
        self.next_id = FIRST_CITIZEN
        self.next_text = 0

    def take(self, n: int) -> list[tuple[FakeUser, str]]:
        out = []
        for _ in range(n):
            user = self.server.user(self.next_id, first_name=f"市民{self.next_id}")
            out.append((user, self.texts[self.next_text % len(self.texts)]))
            self.next_id += 1
            self.next_text += 1
        return out


class Driver:
    """Pushes requests (all at once, ``concurrency`` in flight, or ``rate`` a second whatever
    the answers) and times each answer."""

    def __init__(
        self,
        server: RecordingServer,
        requests: list[tuple[FakeUser, str]],
        concurrency: int,
        *,
        hotline: bool,
        rate: float | None = None,
    ) -> None:
        self.server = server
        self.requests = requests
        self.concurrency = concurrency
        self.rate = rate
        self.hotline = hotline
        self.pending: dict[int, float] = {}
        self.next = 0
        self.first_push = float("inf")
        self.last_answer = 0.0
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.done = asyncio.Event()

    def _push(self) -> None:
        user, body = self.requests[self.next]
        self.next += 1
        pushed = self.server.push_text(user, body)
        self.pending[user.id] = pushed.at
        self.first_push = min(self.first_push, pushed.at)

    def on_call(self, call: Call) -> None:
        if call.method != "sendMessage" or not call.ok:
            return
        chat = call.result["chat"]["id"]
        pushed_at = self.pending.pop(chat, None)
        if pushed_at is None:
            return  # an office or department message, or a citizen answered twice (checked later)
        self.latencies.append(call.at - pushed_at)
        self.last_answer = max(self.last_answer, call.at)
        if self.hotline and not NUMBER.search(sent_text(call)):
            self.errors.append(f"citizen {chat} got no ticket number: {sent_text(call)[:80]!r}")
        if self.next < len(self.requests) and self.rate is None:
            self._push()
        elif self.next >= len(self.requests) and not self.pending:
            self.done.set()

    async def _steady(self) -> None:
        """One request every 1/rate seconds, on a fixed schedule (late pushes catch up)."""
        assert self.rate is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(len(self.requests)):
            await asyncio.sleep(max(0.0, start + i / self.rate - loop.time()))
            self._push()

    async def run(self, timeout: float) -> float:
        """Seconds from the first update available to the last answer."""
        self.server.on_call = self.on_call
        pacing = None
        try:
            if self.rate is not None:
                pacing = asyncio.ensure_future(self._steady())
            else:
                for _ in range(min(self.concurrency, len(self.requests))):
                    self._push()
            try:
                await asyncio.wait_for(self.done.wait(), timeout)
            except TimeoutError:
                raise RuntimeError(
                    f"{len(self.pending)} of {len(self.requests)} requests unanswered after "
                    f"{timeout:.0f}s"
                ) from None
        finally:
            self.server.on_call = None
            if pacing is not None:
                pacing.cancel()
        return self.last_answer - self.first_push


async def quiet(server: RecordingServer, seconds: float = 0.3, timeout: float = 60.0) -> None:
    """Wait until every update is confirmed and the bot made no call but getUpdates for a while
    (its office/department messages and delivery records are done)."""
    await server.wait_for_updates_confirmed(timeout)
    deadline = time.monotonic() + timeout
    seen = len(server._calls)
    last_change = time.monotonic()
    while time.monotonic() - last_change < seconds and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        calls = server._calls
        if any(c.method != "getUpdates" for c in calls[seen:]):
            last_change = time.monotonic()
        seen = len(calls)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- one bot -----------------------------------------------------------------------------------


@dataclass
class BotSpec:
    name: str  # echo, echo×2, hotline/sqlite, hotline/postgres
    kind: str  # echo, hotline
    backend: str | None  # sqlite, postgres
    extra: tuple[str, ...] = ()  # more arguments for bench._botproc
    webhook: bool = False  # Telegram's webhook (the fake server POSTs) instead of polling


@contextlib.contextmanager
def database_for(spec: BotSpec, application_name: str) -> Iterator[str | None]:
    if spec.backend == "sqlite":
        with sqlite_url() as url:
            yield url
    elif spec.backend == "postgres":
        with postgres_url(application_name) as url:
            yield url
    else:
        yield None


def prepare_hotline(
    url: str, config: HotlineConfig, *, deployed: bool, history: int, texts: Sequence[str]
) -> None:
    """The operator's set-up (office and department chats) and optional routing history."""
    database = Database(url)
    with database.transaction() as session:
        sync_departments(session, config.departments)
        if deployed:
            set_office_chat(session, OFFICE_CHAT)
            for i, department in enumerate(config.departments.departments):
                set_department_chat(session, department.code, DEPARTMENT_CHAT_BASE - i)
        if history:
            rng = random.Random(12345)
            codes = [d.code for d in config.departments.departments]
            now = datetime.now(UTC)
            session.execute(
                insert(RoutingExampleRow),
                [
                    {
                        "text": texts[-1 - (i % len(texts))][:800],
                        "department_code": rng.choice(codes),
                        "ticket_id": None,
                        "source": "dispatcher",
                        "created_at": now,
                    }
                    for i in range(history)
                ],
            )
    database.dispose()


def verify_hotline(
    url: str,
    server: RecordingServer,
    citizens: Sequence[int],
    first_call: int,
    failures: Failures,
    name: str,
    *,
    deployed: bool,
) -> None:
    """Every request one ticket, every citizen one confirmation, every number unique; and,
    deployed, every ticket shown in a group (its card, its dispatch request, or a list)."""
    expected = len(citizens)
    database = Database(url)
    with database.read() as session:
        tickets = int(session.scalar(select(func.count()).select_from(TicketRow)) or 0)
        numbers = int(session.scalar(select(func.count(func.distinct(TicketRow.number)))) or 0)
        owners = int(session.scalar(select(func.count(func.distinct(TicketRow.citizen_id)))) or 0)
    database.dispose()
    failures.check(tickets == expected, f"{name}: {tickets} tickets for {expected} requests")
    failures.check(numbers == tickets, f"{name}: {numbers} distinct numbers for {tickets} tickets")
    failures.check(owners == tickets, f"{name}: {owners} citizens own the {tickets} tickets")
    wanted = set(citizens)
    to_citizens = [
        c
        for c in server._calls[first_call:]
        if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] in wanted
    ]
    per_chat = Counter(c.result["chat"]["id"] for c in to_citizens)
    failures.check(
        len(per_chat) == expected and set(per_chat.values()) == {1},
        f"{name}: {len(per_chat)} of {expected} citizens answered, "
        f"{sum(1 for v in per_chat.values() if v > 1)} more than once",
    )
    confirmed = [NUMBER.search(sent_text(c)) for c in to_citizens]
    found = [m.group() for m in confirmed if m]
    failures.check(
        len(found) == expected and len(set(found)) == expected,
        f"{name}: {len(found)} confirmations carry a number, {len(set(found))} distinct, "
        f"for {expected} requests",
    )
    if deployed:
        in_groups = {
            number.group()
            for c in server._calls[first_call:]
            if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] < 0
            for number in NUMBER.finditer(sent_text(c))
        }
        unseen = set(found) - in_groups
        failures.check(not unseen, f"{name}: {len(unseen)} tickets never shown in a group chat")


def verify_echo(
    server: RecordingServer,
    requests: Sequence[tuple[FakeUser, str]],
    first_call: int,
    failures: Failures,
) -> None:
    texts = {user.id: body for user, body in requests}
    answers: dict[int, list[str]] = defaultdict(list)
    for c in server._calls[first_call:]:
        if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] in texts:
            answers[c.result["chat"]["id"]].append(sent_text(c))
    good = sum(1 for uid, body in texts.items() if answers.get(uid) == [body])
    failures.check(good == len(texts), f"echo: {good} of {len(texts)} citizens echoed once")


async def run_bot(
    spec: BotSpec,
    server: RecordingServer,
    citizens: Citizens,
    args: argparse.Namespace,
    config: HotlineConfig,
    failures: Failures,
    repeat: int,
    *,
    loads: Sequence[tuple[str, int]],
    profile_to: Path | None = None,
) -> list[LoadResult]:
    application_name = f"hotline_bench_{os.getpid()}_{spec.name.replace('/', '_')}"
    results: list[LoadResult] = []
    with database_for(spec, application_name) as url:
        if url is not None:
            prepare_hotline(
                url,
                config,
                deployed=args.setup == "deployed",
                history=args.history,
                texts=citizens.texts,
            )
        first_call = len(server._calls)
        bot = BotProcess(spec.kind, server.base_url, url)
        extra = ["--log-level", args.log_level, *spec.extra]
        if spec.webhook:
            extra += ["--webhook", WEBHOOK_URL, "--listen", f"127.0.0.1:{free_port()}"]
        pump_stop = asyncio.Event()
        pump: asyncio.Task[None] | None = None
        if profile_to is not None and spec.kind == "hotline":
            extra.append("--count-sql")
        note(f"{spec.name}: starting (aiogram takes a few seconds to import)")
        try:
            ready = await bot.start(extra=extra)
            if spec.webhook:
                listen = extra[extra.index("--listen") + 1]
                pump = asyncio.create_task(
                    server.pump_webhook(f"http://{listen}{WEBHOOK_PATH}", pump_stop)
                )
            else:
                await wait_polling(server)
            note(f"{spec.name}: ready after {ready['import_and_start_s']:.1f}s")
            all_requests: list[tuple[FakeUser, str]] = []
            if args.warmup:
                warm = citizens.take(args.warmup)
                all_requests += warm
                await Driver(server, warm, args.pool or 100, hotline=spec.kind == "hotline").run(
                    args.timeout
                )
                await quiet(server)
            spy = None
            if profile_to is not None:
                spy = start_py_spy(bot.pid, profile_to, args.profile_rate)
            for load, concurrency in loads:
                requests = citizens.take(args.requests)
                all_requests += requests
                backend_cpu = BackendCpu(application_name if spec.backend == "postgres" else None)
                backend_cpu.mark()
                before = await bot.command("CPU")
                server_before = time.process_time()
                driver = Driver(
                    server,
                    requests,
                    concurrency,
                    hotline=spec.kind == "hotline",
                    rate=args.rate if load.startswith("steady") else None,
                )
                calls_before = len(server._calls)
                seconds = await driver.run(args.timeout)
                await quiet(server)
                to_groups = sum(
                    1
                    for c in server._calls[calls_before:]
                    if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] < 0
                )
                server_cpu = time.process_time() - server_before
                after = await bot.command("CPU")
                db_cpu = backend_cpu.since_mark()
                for error in driver.errors[:5]:
                    failures.check(False, f"{spec.name}: {error}")
                results.append(
                    LoadResult(
                        bot=spec.name,
                        load=load,
                        requests=len(requests),
                        seconds=seconds,
                        latencies=driver.latencies,
                        bot_cpu=after["cpu"] - before["cpu"],
                        bot_gc=after["gc"] - before["gc"],
                        server_cpu=server_cpu,
                        db_cpu=db_cpu,
                        peak_rss_kb=after["maxrss_kb"],
                        jobs=after.get("jobs", 0) - before.get("jobs", 0),
                        batches=after.get("batches", 0) - before.get("batches", 0),
                        repeat=repeat,
                        group_messages=to_groups,
                        sql={
                            k: v - before.get("sql", {}).get(k, 0)
                            for k, v in after.get("sql", {}).items()
                            if v > before.get("sql", {}).get(k, 0)
                        },
                    )
                )
                r = results[-1]
                note(
                    f"{spec.name} {load}: {r.rate:,.0f} req/s, p50 "
                    f"{percentile(r.latencies, 50) * 1000:,.0f} ms, bot CPU "
                    f"{r.bot_cpu / r.requests * 1000:.2f} ms/req"
                )
            if spy is not None:
                stop_py_spy(spy)
            pump_stop.set()
            if pump is not None:
                await pump
            final = await bot.stop()
            for r in results:
                r.peak_rss_kb = max(r.peak_rss_kb, final.get("maxrss_kb", 0))
        finally:
            pump_stop.set()
            if pump is not None and not pump.done():
                pump.cancel()
            await bot.kill()
        if url is not None:
            verify_hotline(
                url,
                server,
                [u.id for u, _ in all_requests],
                first_call,
                failures,
                spec.name,
                deployed=args.setup == "deployed",
            )
        else:
            verify_echo(server, all_requests, first_call, failures)
    return results


# -- profiling ---------------------------------------------------------------------------------


def start_py_spy(pid: int, output: Path, rate: int) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).with_name("py-spy")
    if not executable.exists():
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    spy = subprocess.Popen(
        [
            str(executable),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--threads",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)  # let it attach
    if spy.poll() is not None:
        raise RuntimeError(f"py-spy failed: {spy.stderr.read().decode() if spy.stderr else ''}")
    return spy


def stop_py_spy(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

LIBRARIES = [
    ("SQLAlchemy", "sqlalchemy/"),
    ("psycopg (driver)", "psycopg"),
    ("sqlite3 (driver)", "sqlite3/"),
    ("aiogram", "aiogram/"),
    ("pydantic", "pydantic"),
    ("aiohttp", "aiohttp/"),
    ("json", "json/"),
    ("asyncio", "asyncio/"),
    ("logging", "logging/"),
    ("rapidfuzz", "rapidfuzz/"),
    ("alembic", "alembic/"),
    ("handlers/ (the core)", "handlers/"),
    ("storage/ (ours)", "storage/"),
    ("bot/ (ours)", "bot/"),
    ("scheduler/ (ours)", "scheduler/"),
]
OURS = ("handlers/", "storage/", "bot/", "scheduler/")
_THREAD = re.compile(r"^thread \(\w+\):?\s*")


def _in(path: str, marker: str) -> bool:
    return path.startswith(marker) or f"/{marker}" in path


def _frames(stack: str) -> tuple[str, list[tuple[str, str]]]:
    """(thread name, frames root first as (function, file))."""
    parts = stack.split(";")
    thread = _THREAD.sub("", parts[0]).strip() or parts[0]
    frames = []
    for part in parts[1:]:
        m = _FRAME.match(part.strip())
        frames.append((m.group("func"), m.group("file")) if m else (part, ""))
    return thread, frames


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


SQLALCHEMY_LAYERS = [
    ("executing (dialect do_execute → driver)", ("engine/default.py",)),
    ("cache keys (statement → compiled-cache lookup)", ("sql/cache_key.py", "sql/annotation.py")),
    ("compiling / binding parameters", ("sql/compiler.py", "sql/crud.py")),
    (
        "building statements (select/insert/where objects)",
        (
            "sql/elements.py",
            "sql/coercions.py",
            "sql/selectable.py",
            "sql/dml.py",
            "sql/base.py",
            "sql/operators.py",
            "sql/default_comparator.py",
            "sql/schema.py",
            "sql/type_api.py",
            "sql/traversals.py",
            "sql/visitors.py",
            "sql/roles.py",
            "sql/functions.py",
        ),
    ),
    ("ORM session / ORM-enabled execution", ("orm/",)),
    ("engine: connection, results, rows", ("engine/",)),
    ("type processors (dialects)", ("dialects/",)),
    ("events, pool, util", ("event/", "pool/", "util/")),
]


def _layer(path: str) -> str:
    for label, parts in SQLALCHEMY_LAYERS:
        if any(p in path for p in parts):
            return label
    return "other SQLAlchemy"


def summarize_profile(path: Path, title: str, top: int) -> None:
    samples: list[tuple[str, list[tuple[str, str]], int]] = []
    reader = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        thread, frames = _frames(stack)
        if any(fn == "read_commands" for fn, _ in frames):
            reader += int(count)  # the benchmark's stdin reader, not the bot
            continue
        samples.append((thread, frames, int(count)))
    total = sum(n for _, _, n in samples)
    if not total:
        print(f"\n{title}: no samples")
        return
    threads: Counter[str] = Counter()
    for thread, _, n in samples:
        threads[thread] += n
    print_table(
        ["thread", "samples", "share"],
        [(t, n, f"{n / total:.0%}") for t, n in threads.most_common()],
        f"{title}: {total} samples of the bot's threads while not idle (py-spy; "
        f"{reader} samples of the benchmark's stdin reader left out)",
    )
    # Inclusive share by library: a sample counts once for each library on its stack.
    inclusive: Counter[str] = Counter()
    self_lib: Counter[str] = Counter()
    for _, frames, n in samples:
        seen = {label for label, marker in LIBRARIES for _, f in frames if _in(f, marker)}
        for label in seen:
            inclusive[label] += n
        label = "other (stdlib, C)"
        for _, f in reversed(frames):
            hit = next((lab for lab, marker in LIBRARIES if _in(f, marker)), None)
            if hit:
                label = hit
                break
        self_lib[label] += n
    print_table(
        ["library", "inclusive", "self"],
        [
            (lab, f"{inclusive[lab] / total:.0%}", f"{self_lib[lab] / total:.0%}")
            for lab, _ in [*LIBRARIES, ("other (stdlib, C)", "")]
            if inclusive[lab] or self_lib[lab]
        ],
        f"{title}: share of samples by library (self = innermost library frame)",
    )
    layers: Counter[str] = Counter()
    for _, frames, n in samples:
        inner = next((f for _, f in reversed(frames) if _in(f, "sqlalchemy/")), None)
        if inner is not None:
            layers[_layer(inner)] += n
    print_table(
        ["SQLAlchemy layer (innermost SQLAlchemy frame)", "share of all samples"],
        [(k, f"{n / total:.1%}") for k, n in layers.most_common()],
        f"{title}: where the SQLAlchemy time goes",
    )
    ours: Counter[str] = Counter()
    for _, frames, n in samples:
        for key in {f"{fn} ({_short(f)})" for fn, f in frames if any(_in(f, m) for m in OURS)}:
            ours[key] += n
    print_table(
        ["function (ours)", "inclusive"],
        [(k, f"{n / total:.1%}") for k, n in ours.most_common(top)],
        f"{title}: our functions by inclusive share",
    )
    leaf: Counter[str] = Counter()
    for _, frames, n in samples:
        if frames:
            fn, f = frames[-1]
            leaf[f"{fn} ({_short(f)})"] += n
    print_table(
        ["function (leaf)", "self"],
        [(k, f"{n / total:.1%}") for k, n in leaf.most_common(top)],
        f"{title}: hottest leaf functions",
    )


# -- output ------------------------------------------------------------------------------------


def print_sql(result: LoadResult, name: str, top: int) -> None:
    total = sum(result.sql.values())
    rows = [
        (statement, fmt(count / result.requests, 2))
        for statement, count in sorted(result.sql.items(), key=lambda kv: -kv[1])[:top]
    ]
    print_table(
        ["SQL statement (first 110 characters)", "per request"],
        rows,
        f"{name}: {total / result.requests:.1f} SQL statements per request "
        f"({total} for {result.requests} requests, delivery records and claims included)",
    )


def print_results(results: Sequence[LoadResult], title: str) -> None:
    echo = {(r.repeat, r.load): r.rate for r in results if r.bot == "echo"}
    rows = []
    for r in results:
        base = echo.get((r.repeat, r.load))
        rows.append(
            (
                r.bot,
                r.load if len({x.repeat for x in results}) == 1 else f"{r.load} #{r.repeat + 1}",
                r.requests,
                fmt(r.seconds, 2),
                fmt(r.rate, 0),
                fmt(percentile(r.latencies, 50) * 1000, 0),
                fmt(percentile(r.latencies, 95) * 1000, 0),
                fmt(percentile(r.latencies, 99) * 1000, 0),
                fmt(r.bot_cpu / r.requests * 1000, 2),
                fmt(r.bot_gc / r.requests * 1000, 2),
                fmt(r.server_cpu / r.requests * 1000, 2),
                fmt(r.db_cpu / r.requests * 1000, 2) if r.db_cpu is not None else "—",
                fmt(r.peak_rss_kb / 1024, 0),
                fmt(r.jobs / r.batches, 1) if r.batches else "—",
                fmt(r.group_messages / r.requests, 2),
                f"{r.rate / base:.2f}" if base and r.bot != "echo" else "—",
            )
        )
    print_table(
        [
            "bot",
            "load",
            "requests",
            "seconds",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "bot CPU ms/req",
            "GC ms/req",
            "server CPU ms/req",
            "PG CPU ms/req",
            "peak RSS MB",
            "jobs/commit",
            "group msgs/req",
            "÷ echo",
        ],
        rows,
        title,
    )


def print_summary(results: Sequence[LoadResult]) -> None:
    """Medians over the repetitions, and the target."""
    groups: dict[tuple[str, str], list[LoadResult]] = defaultdict(list)
    for r in results:
        groups[(r.bot, r.load)].append(r)
    echo = {
        load: statistics.median(x.rate for x in rs)
        for (bot, load), rs in groups.items()
        if bot == "echo"
    }
    rows = []
    for (bot, load), rs in groups.items():
        rate = statistics.median(x.rate for x in rs)
        ratio = rate / echo[load] if bot != "echo" and load in echo else None
        baseline = not bot.startswith("hotline")
        verdict = "—" if ratio is None or baseline else ("met" if ratio >= 0.5 else "MISSED")
        rows.append(
            (bot, load, len(rs), fmt(rate, 0), "—" if ratio is None else f"{ratio:.2f}", verdict)
        )
    print_table(
        ["bot", "load", "runs", "median req/s", "÷ echo", "target ≥ 0.50"],
        rows,
        "Target: the hotline keeps at least half the echo bot's throughput",
    )


def print_steady(results: Sequence[LoadResult], rate: float) -> None:
    """Latency at a steady rate: medians over the repetitions, and the target."""
    groups: dict[str, list[LoadResult]] = defaultdict(list)
    for r in results:
        groups[r.bot].append(r)
    rows = []
    for bot, rs in groups.items():
        p95 = statistics.median(percentile(x.latencies, 95) for x in rs) * 1000
        verdict = "—" if not bot.startswith("hotline") else ("met" if p95 < 150 else "MISSED")
        rows.append(
            (
                bot,
                len(rs),
                fmt(statistics.median(percentile(x.latencies, 50) for x in rs) * 1000, 0),
                fmt(p95, 0),
                fmt(statistics.median(percentile(x.latencies, 99) for x in rs) * 1000, 0),
                verdict,
            )
        )
    print_table(
        ["bot", "runs", "p50 ms", "p95 ms", "p99 ms", "target p95 < 150 ms"],
        rows,
        f"Steady load: {rate:g} requests a second from distinct citizens",
    )


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--requests", type=int, default=1000, help="requests per load")
    parser.add_argument("--pool", type=int, default=200, help="citizens in flight (pool load)")
    parser.add_argument(
        "--loads", default="burst,pool", help="comma-separated: burst, pool (default both)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="steady load instead: this many requests a second from distinct citizens, "
        "for --seconds; reports latency against the target p95 < 150 ms",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the steady load")
    parser.add_argument("--warmup", type=int, default=100, help="requests before measuring")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="hotline databases: sqlite, postgres"
    )
    parser.add_argument("--no-echo", action="store_true", help="skip the echo baseline")
    parser.add_argument(
        "--no-webhook", action="store_true", help="skip the hotline in webhook mode"
    )
    parser.add_argument(
        "--echo2",
        action="store_true",
        help="also an echo bot sending two messages per update (the answer and a copy to a "
        "group), as the hotline sends its confirmation and a card",
    )
    parser.add_argument("--repeat", type=int, default=1, help="repeat the whole sequence")
    parser.add_argument(
        "--setup",
        choices=["deployed", "bare"],
        default="deployed",
        help="deployed: office and department chats bound (default); bare: nothing bound",
    )
    parser.add_argument(
        "--history", type=int, default=0, help="routing examples preloaded (production: ≤5000)"
    )
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per load")
    parser.add_argument("--profile", action="store_true", help="py-spy the hotline afterwards")
    parser.add_argument("--profile-only", action="store_true", help="only the py-spy runs")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples/second")
    parser.add_argument("--top", type=int, default=25, help="rows in the profile tables")
    parser.add_argument("--profile-dir", help="keep py-spy's raw (collapsed) stacks here")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    texts = request_texts()
    config = load_config(None)
    note(f"{len(texts)} request texts from the unlabeled set")
    loads: list[tuple[str, int]] = []
    if args.rate:
        args.requests = round(args.rate * args.seconds)
        args.loads = ""
        loads.append((f"steady {args.rate:g}/s", 0))
    for load in args.loads.split(","):
        load = load.strip()
        if load == "burst":
            loads.append(("burst", args.requests))
        elif load == "pool":
            loads.append((f"pool {args.pool}", args.pool))
        elif load:
            raise SystemExit(f"unknown load {load!r}")
    specs = [] if args.no_echo else [BotSpec("echo", "echo", None)]
    if args.echo2:
        specs.append(BotSpec("echo×2", "echo", None, ("--copy-to", str(OFFICE_CHAT))))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    specs += [BotSpec(f"hotline/{b}", "hotline", b) for b in backends]
    if not args.no_webhook and backends:
        # The webhook on the last backend (PostgreSQL, as deployed with several instances).
        specs.append(
            BotSpec(f"hotline/{backends[-1]} webhook", "hotline", backends[-1], webhook=True)
        )
    failures = Failures()
    results: list[LoadResult] = []
    async with RecordingServer() as server:
        server.group(OFFICE_CHAT, "热线办")
        for i, department in enumerate(config.departments.departments):
            server.group(DEPARTMENT_CHAT_BASE - i, f"{department.name_zh}工作群")
        citizens = Citizens(server, texts)
        if not args.profile_only:
            for repeat in range(args.repeat):
                for spec in specs:
                    results += await run_bot(
                        spec, server, citizens, args, config, failures, repeat, loads=loads
                    )
            print(
                f"\nbench.intake: {args.requests} requests per load, distinct citizens, "
                f"warm-up {args.warmup}, setup {args.setup}, routing history {args.history}, "
                f"texts from unlabeled.csv; server = fake Bot API server + simulated citizens "
                f"in the benchmark process; PG CPU = the bot's PostgreSQL backends"
            )
            print_results(results, "Intake, end to end (update available → confirmation sent)")
            if args.rate:
                print_steady(results, args.rate)
            else:
                print_summary(results)
        if args.profile or args.profile_only:
            pool = [(f"pool {args.pool}", args.pool)]
            with tempfile.TemporaryDirectory(prefix="hotline-spy-") as scratch:
                tmp = args.profile_dir or scratch
                os.makedirs(tmp, exist_ok=True)
                for spec in specs:
                    if spec.kind != "hotline":
                        continue
                    output = Path(tmp) / f"{spec.backend}{'-webhook' if spec.webhook else ''}.txt"
                    profiled = await run_bot(
                        spec,
                        server,
                        citizens,
                        args,
                        config,
                        failures,
                        0,
                        loads=pool,
                        profile_to=output,
                    )
                    r = profiled[0]
                    print(
                        f"\nProfiled run, {spec.name}, pool {args.pool}: {r.rate:,.0f} req/s under "
                        f"py-spy ({args.profile_rate} Hz), bot CPU "
                        f"{r.bot_cpu / r.requests * 1000:.2f} ms/req"
                    )
                    summarize_profile(output, spec.name, args.top)
                    print_sql(r, spec.name, args.top)
    print(f"\nbench.intake took {time.perf_counter() - started:.0f}s")
    if failures.messages:
        print("\nFAILED CHECKS:")
        for message in failures.messages:
            print(f"  {message}")
        return 1
    print("All checks passed: every request became exactly one ticket with a unique number.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
