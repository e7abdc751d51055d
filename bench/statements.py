"""Counting the SQL statements a piece of work runs (for tests of how many it needs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from storage.database import Database


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """The SQL statements run on ``database`` meanwhile, as sent (an executemany is one)."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
