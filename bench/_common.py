"""Shared pieces of the bot benchmarks (``bench.intake``, ``bench.growth``, ``bench.sweep``).

* request texts read at run time from ``HOTLINE_DATA/requests/unlabeled.csv`` (never copied),
* a fresh SQLite file or a fresh PostgreSQL schema (dropped afterwards),
* the fake Bot API server with a hook on every recorded call,
* a bot (the hotline, or a bare aiogram echo bot) in its own process (``bench._botproc``), so
  that its CPU time and peak RSS are its own and the fake server's are measured apart,
* percentiles and plain-text tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.fake_bot_api import Call, FakeTelegramServer
from storage.database import Database, normalize_url

DATA = Path(os.environ.get("HOTLINE_DATA", "/work/shared/data"))
POSTGRES_URL = os.environ.get(
    "HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"\d{8}-\d{4,}")
TEXT_LIMIT = 4000  # Telegram allows 4096; longer requests are answered "too long", not ticketed


# -- data --------------------------------------------------------------------------------------


def request_texts(limit: int = TEXT_LIMIT) -> list[str]:
    """The citizens' request texts of the unlabeled set, in file order (read, never stored)."""
    path = DATA / "requests" / "unlabeled.csv"
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row["text"].strip() for row in csv.DictReader(handle)]
    kept = [t for t in texts if t and len(t) <= limit and not t.startswith("/")]
    if not kept:
        raise SystemExit(f"no usable request texts in {path}")
    return kept


# -- databases ---------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_url(directory: Path | None = None) -> Iterator[str]:
    """A fresh SQLite file, migrated with ``Database(url).upgrade()``; deleted afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-", dir=directory))
    url = f"sqlite:///{tmp / 'hotline.sqlite3'}"
    try:
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def postgres_url(application_name: str | None = None) -> Iterator[str]:
    """A fresh schema in ``HOTLINE_BENCH_POSTGRES_URL`` (search_path set through ``options``),
    migrated with ``Database(url).upgrade()``, dropped afterwards. ``application_name`` tags the
    bot's connections, so their backends' CPU time can be read from /proc."""
    schema = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    query = {"options": f"-csearch_path={schema}"}
    if application_name:
        query["application_name"] = application_name
    url = normalize_url(POSTGRES_URL).update_query_dict(query).render_as_string(hide_password=False)
    try:
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def database_for(backend: str) -> Iterator[str]:
    """A fresh, migrated database of ``backend`` ("sqlite" or "postgres"), removed afterwards."""
    if backend == "sqlite":
        with sqlite_url() as url:
            yield url
    else:
        with postgres_url() as url:
            yield url


def backend_pids(application_name: str) -> list[int]:
    """PostgreSQL backends serving connections tagged with ``application_name``."""
    admin = create_engine(normalize_url(POSTGRES_URL))
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            ).all()
    finally:
        admin.dispose()
    return [int(r[0]) for r in rows]


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """utime + stime of a process in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


class BackendCpu:
    """CPU seconds of the PostgreSQL backends of one bot process, between two readings."""

    def __init__(self, application_name: str | None) -> None:
        self.application_name = application_name
        self.start: dict[int, float] = {}

    def mark(self) -> None:
        if self.application_name:
            self.start = {p: process_cpu(p) for p in backend_pids(self.application_name)}

    def since_mark(self) -> float | None:
        if not self.application_name:
            return None
        pids = set(self.start) | set(backend_pids(self.application_name))
        return sum(max(0.0, process_cpu(p) - self.start.get(p, 0.0)) for p in pids)


# -- the fake Bot API server -------------------------------------------------------------------


class RecordingServer(FakeTelegramServer):
    """The test fake, with ``on_call`` run for every call it records (in the event loop)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_call: Callable[[Call], None] | None = None
        self._waiters: dict[int, list[asyncio.Future[Call]]] = {}

    def _record(self, call: Call) -> None:
        super()._record(call)
        if self.on_call is not None:
            self.on_call(call)
        if self._waiters and call.ok and call.method == "sendMessage":
            chat = call.result["chat"]["id"]
            for future in self._waiters.pop(chat, []):
                if not future.done():
                    future.set_result(call)

    def next_send_to(self, chat_id: int) -> asyncio.Future[Call]:
        """A future for the next successful sendMessage to ``chat_id`` (register, then push)."""
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(chat_id, []).append(future)
        return future

    def polling(self) -> bool:
        """A bot is waiting in getUpdates right now."""
        return bool(self.api.pollers)


def sent_text(call: Call) -> str:
    result = call.result or {}
    return str(result.get("text") or result.get("caption") or "")


# -- a bot in its own process ------------------------------------------------------------------


class BotProcess:
    """``python -m bench._botproc``: the hotline (``bot.runner.serve``) or the aiogram echo bot.

    It reports its own CPU time (all threads) and peak RSS; commands go over stdin, answers come
    back as ``@@{json}`` lines on stdout.
    """

    def __init__(self, kind: str, api_base: str, database_url: str | None = None) -> None:
        self.kind = kind
        self.api_base = api_base
        self.database_url = database_url
        self.proc: asyncio.subprocess.Process | None = None
        self.ready: dict[str, Any] = {}

    async def start(self, *, extra: Sequence[str] = (), timeout: float = 120.0) -> dict[str, Any]:
        args = [sys.executable, "-m", "bench._botproc", self.kind, "--api", self.api_base]
        if self.database_url:
            args += ["--database", self.database_url]
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            *extra,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.ready = await asyncio.wait_for(self._answer(), timeout)
        return self.ready

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _answer(self) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                code = await self.proc.wait()
                raise RuntimeError(f"the {self.kind} bot process ended (exit status {code})")
            decoded = line.decode(errors="replace").rstrip("\n")
            if decoded.startswith("@@"):
                answer: dict[str, Any] = json.loads(decoded[2:])
                if "error" in answer:
                    raise RuntimeError(f"the {self.kind} bot failed: {answer['error']}")
                return answer
            print(f"[{self.kind}] {decoded}", file=sys.stderr)

    async def command(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name}\n".encode())
        await self.proc.stdin.drain()
        return await asyncio.wait_for(self._answer(), timeout)

    async def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """Stop the bot; its final numbers (peak RSS, worker batches)."""
        answer = await self.command("STOP", timeout)
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait(), timeout)
        return answer

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def wait_polling(server: RecordingServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.polling():
        if time.monotonic() > deadline:
            raise RuntimeError("the bot does not poll the fake server")
        await asyncio.sleep(0.01)


# -- figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    if title:
        print(f"\n{title}")
    for n, row in enumerate(cells):
        line = "  ".join(
            c + " " * (w - _width(c)) if i == 0 else " " * (w - _width(c)) + c
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        print(line.rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def _width(cell: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in cell)


def stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def note(message: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(f"[{stamp()}] {message}", file=sys.stderr, flush=True)
