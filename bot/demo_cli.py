"""``hotline demo``: try the bot without a token, Telegram or a database of one's own."""

from __future__ import annotations

import asyncio
import socket
from typing import Annotated

import typer

from bot.logging_setup import setup_logging

DEFAULT_DEMO_LISTEN = "127.0.0.1:8080"


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def demo(
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            metavar="HOST:PORT",
            help=f"where the demo's web server listens (default {DEFAULT_DEMO_LISTEN}, or a free "
            "port when that one is taken); 0.0.0.0:PORT shows it to the local network, where "
            "anyone who opens it plays every part",
        ),
    ] = None,
    transport: Annotated[
        str, typer.Option("--transport", help="aiogram (default) or ptb (python-telegram-bot)")
    ] = "aiogram",
    log_level: Annotated[
        str, typer.Option("--log-level", help="the bot's log on stderr: WARNING, INFO, DEBUG")
    ] = "WARNING",
) -> None:
    """Run the bot against a built-in stand-in for Telegram, on a temporary SQLite database
    with the 建塘镇 departments, a supervisor and a staff member, and play it in the browser
    (a citizen's chat, a department's group, the office's group). Needs no token; nothing
    reaches Telegram; everything is gone when it stops (Ctrl-C)."""

    def fail(message: str) -> typer.Exit:
        typer.echo(f"hotline: error: {message}", err=True)
        return typer.Exit(2)

    if transport not in ("aiogram", "ptb"):
        raise fail("--transport must be aiogram or ptb")
    # Imported here: aiogram takes seconds to import, and a bad option should not wait.
    from bot.webhook import Listen

    try:
        where = Listen.parse(listen or DEFAULT_DEMO_LISTEN)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if listen is None and not _free(where.host, where.port):
        where = Listen(where.host, 0)  # someone has 8080: any free port will do for a demo
    setup_logging(log_level.upper())
    from bot.demo.stage import run_demo
    from bot.runner import StartupError, TransportName, install_signal_handlers

    def announce(url: str) -> None:
        typer.echo(f"hotline demo: open {url}  (Ctrl-C stops it)")

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_demo(
            listen=where, stop=stop, announce=announce, transport=TransportName(transport)
        )

    try:
        asyncio.run(main())
    except StartupError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot listen on {where.host}:{where.port}: {exc.strerror or exc}") from None
