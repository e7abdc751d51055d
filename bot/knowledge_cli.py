"""``hotline kb``: the knowledge base (知识库) from the shell — import and export CSV files, list
the entries, and ask it a question the way the bot would decide on a direct answer.

Like every command, an operator's mistake (a malformed row, an unknown department, a missing
file, an unreachable database) ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.settings import Settings, get_settings
from bot.tables import print_table
from handlers.config import ConfigError, HotlineConfig, load_config
from handlers.knowledge import KnowledgeBase, KnowledgeDecision
from handlers.knowledge_io import KnowledgeFileError, format_entries, parse_entries
from handlers.knowledge_stats import figures_text
from handlers.model import Language
from handlers.reports import PeriodError, parse_period
from scheduler.calendar import SHANGHAI
from scheduler.clock import SystemClock
from scheduler.deadlines import local_date
from storage.database import Database, DatabaseError
from storage.departments import sync_departments
from storage.knowledge import (
    KnowledgeError,
    direct_answer_figures,
    import_entries,
    load_entries,
)

EXIT_USAGE = 2

# Request files may hold long texts.
csv.field_size_limit(sys.maxsize)

kb_app = typer.Typer(
    help="The knowledge base (知识库): import, export, list, ask.", no_args_is_help=True
)


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class AskFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _fail(message: str) -> NoReturn:
    # The same shape as bot.cli's errors (not imported from there: bot.cli imports this module).
    typer.echo(f"hotline: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        _fail(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}")


def _config() -> HotlineConfig:
    try:
        return load_config(_settings().config)
    except ConfigError as exc:
        _fail(str(exc))


@contextmanager
def _session() -> Iterator[Session]:
    """A transaction on the configured database with the departments in step with the config."""
    config = _config()
    try:
        database = Database(_settings().database_url)
        database.ensure_schema()
    except DatabaseError as exc:
        _fail(str(exc))
    try:
        with database.transaction() as session:
            sync_departments(session, config.departments)
            yield session
    except KnowledgeError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"the database failed: {reason}")
    finally:
        database.dispose()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(f"{path} does not exist")
    except UnicodeDecodeError:
        _fail(f"{path} is not UTF-8 text (save the CSV as UTF-8)")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")


def _moment(text: str | None) -> datetime:
    """Now, or an ISO date-time given to replay (without a zone it is Shanghai time)."""
    if text is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--at {text!r} is not an ISO date-time like 2026-09-30T10:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@kb_app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(help="CSV: question,answer[,id,department,alternatives]")],
) -> None:
    """Add or update entries from a CSV file (UTF-8). The id column is each entry's stable key:
    importing the same file again changes nothing; a changed row updates its entry. A malformed
    row names its line, and nothing of the file is imported."""
    text = _read(path)
    config = _config()
    try:
        entries = parse_entries(text, known_departments=config.departments.codes)
    except KnowledgeFileError as exc:
        _fail(f"{path}: {exc}; nothing imported")
    with _session() as session:
        result = import_entries(
            session, entries, now=SystemClock().now(), via=f"hotline kb import {path.name}"
        )
    typer.echo(
        f"imported {path}: {len(result.created)} new, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )


@kb_app.command("export")
def kb_export(path: Annotated[Path, typer.Argument(help="the CSV file to write")]) -> None:
    """Write every entry (in force or not) to a CSV file that `hotline kb import` reads."""
    with _session() as session:
        entries = load_entries(session)
    try:
        path.write_text(format_entries(entries), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror}")
    typer.echo(f"exported {len(entries)} entries to {path}")


@kb_app.command("list")
def kb_list(
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json")
    ] = ListFormat.TABLE,
) -> None:
    """The entries: id, question, department (and whether each is in force today)."""
    with _session() as session:
        entries = load_entries(session)
    if output is ListFormat.JSON:
        rows = [{"id": e.id, "question": e.question, "department": e.department} for e in entries]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    today = local_date(SystemClock().now())
    table = Table("id", "question", "department", "in force")
    for entry in entries:
        table.add_row(
            entry.id,
            entry.question,
            entry.department or "",
            "yes" if entry.in_force(today) else "no",
        )
    print_table(table)


def _knowledge(entries_file: Path | None) -> KnowledgeBase:
    if entries_file is not None:
        try:
            return KnowledgeBase(parse_entries(_read(entries_file)))
        except KnowledgeFileError as exc:
            _fail(f"{entries_file}: {exc}")
    with _session() as session:
        return KnowledgeBase(load_entries(session))


def decision_row(identifier: str, decision: KnowledgeDecision) -> dict[str, Any]:
    """One asked row of ``hotline kb ask --input``."""
    best = decision.best
    return {
        "id": identifier,
        "entry": best.entry.id if best else None,
        "score": round(best.score, 4) if best else 0.0,
        "answer_directly": decision.answer_directly,
        "top3": [{"entry": m.entry.id, "score": round(m.score, 4)} for m in decision.matches],
    }


def _explanation(decision: KnowledgeDecision) -> list[str]:
    lines = []
    best = decision.best
    if decision.answer_directly and best:
        lines.append(f"answer directly (直接答复) with {best.entry.id}")
    else:
        lines.append("no direct answer: an ordinary ticket (工单)")
    lines.append(f"why: {decision.explain()}")
    cues = ", ".join(decision.act_cues) or "none"
    asks = ", ".join(decision.ask_cues) or "none"
    lines.append(f"intent: {decision.intent.value} (request-to-act cues: {cues}; question: {asks})")
    for rank, match in enumerate(decision.matches, 1):
        lines.append(
            f"{rank}. {match.entry.id}  score {match.score:.3f}  matched «{match.phrasing}»"
            f"  department {match.entry.department or '-'}"
        )
    if decision.answer_directly and best:
        lines.append(f"answer: {best.entry.answer}")
    return lines


@kb_app.command("ask")
def kb_ask(
    text: Annotated[str | None, typer.Argument(help="a citizen's message")] = None,
    output: Annotated[AskFormat, typer.Option("--format", help="text or json")] = AskFormat.TEXT,
    input_path: Annotated[
        Path | None, typer.Option("--input", help="CSV of messages to ask (with --output)")
    ] = None,
    text_column: Annotated[str, typer.Option("--text-column")] = "text",
    id_column: Annotated[str, typer.Option("--id-column")] = "id",
    output_path: Annotated[
        Path | None, typer.Option("--output", help="JSON lines file, one object per row")
    ] = None,
    entries_file: Annotated[
        Path | None,
        typer.Option("--entries", help="match against this CSV instead of the database"),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="decide as of this ISO date-time (default: now)")
    ] = None,
) -> None:
    """Would the bot answer TEXT directly from the knowledge base? Shows the score, the matched
    phrasing and why; with --input, decides every row of a CSV into --output (JSON lines)."""
    if (text is None) == (input_path is None):
        _fail("give either a TEXT or --input CSV (with --output)")
    now = _moment(at)
    if text is not None:
        knowledge = _knowledge(entries_file)
        decision = knowledge.decide(text, now)
        if output is AskFormat.JSON:
            row = decision_row("", decision) | {
                "reason": decision.reason.value,
                "explanation": decision.explain(),
                "intent": decision.intent.value,
                "matched": decision.best.phrasing if decision.best else None,
                "department": decision.best.entry.department if decision.best else None,
            }
            del row["id"]
            typer.echo(json.dumps(row, ensure_ascii=False))
            return
        for line in _explanation(decision):
            typer.echo(line)
        return
    assert input_path is not None  # narrowing only: one of TEXT and --input, checked above
    if output_path is None:
        _fail("--input needs --output")
    source = _read(input_path)
    reader = csv.DictReader(io.StringIO(source, newline=""))
    if text_column not in (reader.fieldnames or ()):
        _fail(f"{input_path} has no column {text_column!r} (--text-column)")
    knowledge = _knowledge(entries_file)
    answered = rows = 0
    try:
        with output_path.open("w", encoding="utf-8") as fh:
            for rows, row in enumerate(reader, 1):
                decision = knowledge.decide(row.get(text_column) or "", now)
                answered += decision.answer_directly
                result = decision_row(row.get(id_column) or str(rows), decision)
                fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    except csv.Error as exc:
        _fail(f"{input_path} line {reader.line_num}: {exc}")
    except OSError as exc:
        _fail(f"cannot write {output_path}: {exc.strerror}")
    typer.echo(f"asked {rows} rows into {output_path}; {answered} would be answered directly")


@kb_app.command("stats")
def kb_stats(
    period_text: Annotated[
        str, typer.Option("--period", help="as in `hotline stats`: month, 2026-11, FROM..TO …")
    ] = "month",
    output: Annotated[
        ListFormat, typer.Option("--format", help="table or json")
    ] = ListFormat.TABLE,
) -> None:
    """直接答复率 and 直接答复后转人工率 of a period, the entries most used and never used, and
    the knowledge base updates per department."""
    now = SystemClock().now()
    try:
        period = parse_period(period_text, local_date(now))
    except PeriodError as exc:
        _fail(str(exc))
    start, end = period.utc_bounds()
    with _session() as session:
        figures = direct_answer_figures(session, start, end, period.end)
    if output is ListFormat.JSON:
        data = {"period": period.label, **figures.to_dict()}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    names = {d.code: d.name_zh for d in _config().departments.departments}
    typer.echo(figures_text(figures, period.label, Language.ZH, names))
