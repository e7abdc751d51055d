"""``hotline desk``: the web desk from the operator's terminal (a sign-in link for someone)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.settings import get_settings
from handlers.desk import LINK_VALID, new_login_link
from scheduler.calendar import SHANGHAI
from scheduler.clock import SystemClock
from storage.database import Database, DatabaseError
from storage.desk import active_staff
from storage.repository import SqlStore

desk_app = typer.Typer(help="The web desk (工作台) under /desk/.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"hotline: error: {message}", err=True)
    return typer.Exit(2)


@desk_app.command("link")
def link(
    telegram_id: Annotated[int, typer.Option("--telegram-id", help="their Telegram user id")],
) -> None:
    """Print a one-time sign-in link to the desk for a staff member or supervisor (valid 10
    minutes, works once)."""
    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise _fail(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}") from None
    if settings.public_url is None:
        raise _fail(
            "HOTLINE_PUBLIC_URL is not set: the address where people reach the bot's server, "
            "e.g. https://hotline.example.gov.cn"
        )
    try:
        database = Database(settings.database_url)
        database.ensure_schema()
    except DatabaseError as exc:
        raise _fail(str(exc)) from None
    now = SystemClock().now()
    try:
        with database.transaction() as session:
            if active_staff(session, telegram_id) is None:
                raise _fail(f"{telegram_id} is not staff: enrol them first (hotline staff add)")
            url, expires_at = new_login_link(
                SqlStore(session), settings.public_url, telegram_id, now
            )
    finally:
        database.dispose()
    typer.echo(url)
    minutes = int(LINK_VALID.total_seconds() // 60)
    until = expires_at.astimezone(SHANGHAI).strftime("%H:%M")
    typer.echo(f"valid {minutes} minutes (until {until} Asia/Shanghai), once", err=True)
