"""One bot in its own process, driven by a benchmark over stdin/stdout (see ``bench._common``).

    python -m bench._botproc hotline --api http://127.0.0.1:PORT --database URL
    python -m bench._botproc echo --api http://127.0.0.1:PORT

``hotline`` runs ``bot.runner.serve`` exactly as ``hotline run`` does (aiogram, the group-commit
database worker, outbox delivery); ``echo`` is a bare aiogram Dispatcher whose only handler
answers each message with its own text, started with ``dp.start_polling(bot,
handle_as_tasks=True)``. Both log through ``bot.logging_setup`` at the same level.

Commands, one per line on stdin: ``CPU`` (answer: this process's CPU time over all threads,
current and peak RSS, and for the hotline the database worker's counters) and ``STOP``. Every
answer is one ``@@{json}`` line on stdout; ``READY`` is sent unasked once the bot polls.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
TOKEN = "123456789:AAHfake-telegram-token_for_tests"  # bot.fake_bot_api.DEFAULT_TOKEN
_PAGE = os.sysconf("SC_PAGE_SIZE")
_SAVEPOINT = re.compile(r"sa_savepoint_\d+")
# Seconds this process spent in the garbage collector: where a bot's CPU goes that no profile
# of its own code shows (a full collection of a freshly imported aiogram bot takes ~0.2 s).
_GC = {"seconds": 0.0, "started": 0.0}


def _time_collections(phase: str, _info: dict[str, int]) -> None:
    if phase == "start":
        _GC["started"] = time.perf_counter()
    else:
        _GC["seconds"] += time.perf_counter() - _GC["started"]


gc.callbacks.append(_time_collections)


def emit(answer: dict[str, Any]) -> None:
    sys.stdout.write("@@" + json.dumps(answer) + "\n")
    sys.stdout.flush()


def usage() -> dict[str, Any]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/self/statm") as statm:
        rss = int(statm.read().split()[1]) * _PAGE // 1024
    return {
        "cpu": ru.ru_utime + ru.ru_stime,
        "user": ru.ru_utime,
        "sys": ru.ru_stime,
        "maxrss_kb": ru.ru_maxrss,
        "rss_kb": rss,
        "threads": threading.active_count(),
        "gc": _GC["seconds"],
    }


def read_commands(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.strip())
    loop.call_soon_threadsafe(queue.put_nowait, "STOP")


async def serve_commands(queue: asyncio.Queue[str], counters: Any, stop: Any) -> dict[str, Any]:
    while True:
        command = await queue.get()
        if command == "CPU":
            emit(usage() | counters())
        elif command == "STOP":
            final: dict[str, Any] = usage() | counters()
            await stop()
            return final
        else:
            emit({"error": f"unknown command {command!r}"})


async def run_echo(args: argparse.Namespace, queue: asyncio.Queue[str]) -> dict[str, Any]:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(args.api)))
    dp = Dispatcher()
    handled = 0

    @dp.message()
    async def echo(message: Message) -> None:
        nonlocal handled
        await message.answer(message.text or "?")
        if args.copy_to is not None:  # a second message per update, as the hotline's card
            await bot.send_message(args.copy_to, message.text or "?")
        handled += 1

    ready = asyncio.Event()

    async def on_startup() -> None:
        ready.set()

    dp.startup.register(on_startup)
    await bot.me()  # getMe, as the hotline's start-up does before it polls
    # A webhook row before this one (--repeat) left the webhook set; the hotline deletes it
    # itself before polling, and aiogram's start_polling does not.
    await bot.delete_webhook()
    polling = asyncio.create_task(dp.start_polling(bot, handle_as_tasks=True))
    await asyncio.wait(
        {asyncio.ensure_future(ready.wait()), polling}, return_when=asyncio.FIRST_COMPLETED
    )
    if polling.done():
        polling.result()
    emit({"ready": True, "import_and_start_s": time.perf_counter() - STARTED, **usage()})

    async def stop() -> None:
        await dp.stop_polling()
        await polling
        await bot.session.close()

    return await serve_commands(queue, lambda: {"handled": handled}, stop)


async def run_hotline(args: argparse.Namespace, queue: asyncio.Queue[str]) -> dict[str, Any]:
    from bot.app import HotlineApp
    from bot.runner import exempt_startup_objects, serve
    from bot.webhook import Listen
    from handlers.config import load_config
    from storage.database import Database

    config = load_config(args.config)
    database = Database(args.database)
    statements: Counter[str] = Counter()
    if args.count_sql:
        from sqlalchemy import event

        @event.listens_for(database.engine, "before_cursor_execute")
        def _count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            key = _SAVEPOINT.sub("sa_savepoint_N", " ".join(statement.split()))
            statements[key[:110]] += 1

    stop_event, ready = asyncio.Event(), asyncio.Event()
    apps: list[HotlineApp] = []

    def started(app: HotlineApp) -> None:
        apps.append(app)
        exempt_startup_objects(app)  # as `hotline run` does

    task = asyncio.create_task(
        serve(
            token=TOKEN,
            api_base=args.api,
            config=config,
            database=database,
            journal=Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "delivery.journal",
            stop=stop_event,
            instance="bench",
            poll_interval=args.poll_interval,
            ready=ready,
            started=started,
            schedule=args.schedule,
            webhook=args.webhook,
            listen=Listen.parse(args.listen) if args.listen else None,
        )
    )
    await asyncio.wait(
        {asyncio.ensure_future(ready.wait()), task}, return_when=asyncio.FIRST_COMPLETED
    )
    if task.done():
        task.result()
    emit({"ready": True, "import_and_start_s": time.perf_counter() - STARTED, **usage()})

    def counters() -> dict[str, Any]:
        app = apps[0]
        return {
            "batches": app.worker.batches,
            "jobs": app.worker.jobs,
            "sent": app.delivery.sent if app.delivery else 0,
            "sql": dict(statements),
        }

    async def stop() -> None:
        stop_event.set()
        await task
        database.dispose()

    return await serve_commands(queue, counters, stop)


async def run(args: argparse.Namespace) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    threading.Thread(
        target=read_commands, args=(asyncio.get_running_loop(), queue), daemon=True
    ).start()
    runner = run_echo if args.kind == "echo" else run_hotline
    final = await runner(args, queue)
    emit(final | {"after_stop_maxrss_kb": usage()["maxrss_kb"]})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._botproc")
    parser.add_argument("kind", choices=["echo", "hotline"])
    parser.add_argument("--api", required=True, help="Bot API base URL (the fake server)")
    parser.add_argument("--database", help="database URL (hotline)")
    parser.add_argument("--config", help="hotline TOML config (default: built-in defaults)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="outbox claim period")
    parser.add_argument("--schedule", action="store_true", help="run the periodic sweeps too")
    parser.add_argument("--count-sql", action="store_true", help="count SQL statements run")
    parser.add_argument("--webhook", help="hotline: serve this webhook URL instead of polling")
    parser.add_argument("--listen", help="hotline: HOST:PORT of the webhook server")
    parser.add_argument("--copy-to", type=int, help="echo: also send each text to this chat")
    args = parser.parse_args()

    from bot.logging_setup import setup_logging

    setup_logging(args.log_level)
    try:
        asyncio.run(run(args))
    except Exception as exc:
        traceback.print_exc()
        emit({"error": repr(exc)})
        sys.exit(1)


if __name__ == "__main__":
    main()
