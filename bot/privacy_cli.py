"""``hotline privacy``: a citizen's rights under the Personal Information Protection Law
(个人信息保护法): to see what is stored about them, and to have it anonymised.

Every operator action here is logged (who asked is the operator's record to keep; the log says
what was done and to which Telegram account, never the data itself).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.logging_setup import setup_logging
from bot.settings import Settings, get_settings
from storage.database import Database, DatabaseError
from storage.retention import anonymise_citizen, citizen_data

log = logging.getLogger("hotline.privacy")
EXIT_USAGE = 2

privacy_app = typer.Typer(
    help="Citizens' personal data (个人信息保护法): show it, anonymise it on request.",
    no_args_is_help=True,
)
TelegramId = Annotated[
    int, typer.Option("--telegram-id", metavar="ID", help="the citizen's Telegram user id")
]


def _fail(message: str) -> NoReturn:
    # The same shape as bot.cli's errors (not imported from there: bot.cli imports this module).
    typer.echo(f"hotline: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        _fail(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}")


@contextmanager
def _session() -> Iterator[Session]:
    try:
        database = Database(_settings().database_url)
        database.ensure_schema()
    except DatabaseError as exc:
        _fail(str(exc))
    try:
        with database.transaction() as session:
            yield session
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"the database failed: {reason}")
    finally:
        database.dispose()


@privacy_app.command("show")
def show(telegram_id: TelegramId) -> None:
    """Print (JSON) everything stored about a citizen: name, phone, tickets and what they sent."""
    with _session() as session:
        data = citizen_data(session, telegram_id)
    if data is None:
        _fail(f"no citizen with Telegram id {telegram_id} has written to the hotline")
    typer.echo(json.dumps(asdict(data), ensure_ascii=False, indent=2, default=str))


@privacy_app.command("anonymise")
def anonymise(telegram_id: TelegramId) -> None:
    """Replace a citizen's name, phone and every ticket's content by placeholders, now.

    Tickets stay (archives kept by law) with their dates, departments and ratings, so the
    statistics do not change."""
    setup_logging(_settings().log_level)
    with _session() as session:
        done = anonymise_citizen(session, telegram_id)
    if done is None:
        _fail(f"no citizen with Telegram id {telegram_id} has written to the hotline")
    tickets, still_open = done
    log.warning(
        "personal data of the citizen with Telegram id %d anonymised on request: %d tickets "
        "(%d still open)",
        telegram_id,
        tickets,
        still_open,
    )
    typer.echo(
        f"anonymised: the citizen's name and phone, and the content of {tickets} tickets"
        + (f" ({still_open} still open: their departments see placeholders)" if still_open else "")
    )
