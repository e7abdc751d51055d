"""Many rows in one statement whose text does not depend on how many there are.

SQLAlchemy sends a batch of rows to PostgreSQL as one INSERT with a VALUES tuple a row
(insertmanyvalues) or as a pipelined executemany. psycopg then handles each value in Python, and
parses the long INSERT again for every batch (too long for its statement cache): a third of
what the database worker spent on PostgreSQL in bench.intake's profile. Here PostgreSQL gets the
rows as one JSON document, made by the json module's C encoder, and turns it into rows of the
table itself (``json_populate_recordset``): the statement's text is the same for any number of
rows, parsed once and prepared by psycopg after a few runs. (Arrays a column, ``unnest``, cost
more: psycopg escapes each element of a text array in Python.)

On SQLite the same call is SQLAlchemy's executemany, which sqlite3 runs in C.

Every row of one call has the same keys, the columns it sets. Values are what the table's
columns take in JSON: numbers, strings (enums as their values), None, dicts for JSON columns,
and aware datetimes (naive ones are refused, as ``UtcDateTime`` does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, CursorResult, Dialect, Table, TextClause, bindparam, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Executable

Rows = Sequence[Mapping[str, Any]]


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given to the database: {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value: {value!r}")


def _rows_json(rows: Rows) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _recordset(table: Table) -> str:
    """The ``rows`` parameter as a table ``v`` of ``table``'s row type, with each row's
    position, ``ordinality``."""
    return f"json_populate_recordset(NULL::{table.name}, CAST(:rows AS json)) WITH ORDINALITY AS v"


def _names(columns: Sequence[Column[Any]], dialect: Dialect) -> str:
    return ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)


class _Many:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._postgres: dict[tuple[str, ...], TextClause] = {}  # by the columns set

    def _postgres_statement(self, dialect: Dialect, names: tuple[str, ...]) -> TextClause:
        statement = self._postgres.get(names)
        if statement is None:
            columns = [self.table.c[name] for name in names]
            statement = self._postgres[names] = text(self._sql(columns, dialect))
        return statement

    def _sql(self, columns: Sequence[Column[Any]], dialect: Dialect) -> str:
        raise NotImplementedError


class InsertMany(_Many):
    """``INSERT`` of many rows, optionally skipping those whose ``skip_conflicts_on`` key exists
    already, and returning one column of the rows inserted.

    Rows are inserted in the order given, so a serial id increases with it (PostgreSQL numbers
    the rows of ``INSERT … SELECT … ORDER BY`` in that order, as SQLAlchemy's own batched INSERT
    relies on); RETURNING itself promises no order.
    """

    def __init__(
        self, table: Table, *, returning: str | None = None, skip_conflicts_on: str | None = None
    ) -> None:
        super().__init__(table)
        self.returning = returning
        self.skip_conflicts_on = skip_conflicts_on
        statement: Any = sqlite.insert(table)
        if skip_conflicts_on:
            statement = statement.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
        if returning:
            statement = statement.returning(table.c[returning])
        self._sqlite: Executable = statement

    def __call__(self, conn: Connection, rows: Rows) -> CursorResult[Any]:
        if conn.dialect.name == "postgresql":
            statement = self._postgres_statement(conn.dialect, tuple(rows[0]))
            return conn.execute(statement, {"rows": _rows_json(rows)})
        return conn.execute(self._sqlite, list(rows))

    def _sql(self, columns: Sequence[Column[Any]], dialect: Dialect) -> str:
        names = _names(columns, dialect)
        sql = (
            f"INSERT INTO {self.table.name} ({names}) SELECT {names} "
            f"FROM {_recordset(self.table)} ORDER BY ordinality"
        )
        if self.skip_conflicts_on:
            sql += f" ON CONFLICT ({self.skip_conflicts_on}) DO NOTHING"
        if self.returning:
            sql += f" RETURNING {self.returning}"
        return sql


class UpdateMany(_Many):
    """``UPDATE`` of many rows found by ``key``: each row's other keys are the columns it sets,
    ``fixed`` what every row is set to besides."""

    def __init__(self, table: Table, key: str, fixed: Mapping[str, Any]) -> None:
        super().__init__(table)
        self.key = key
        self.fixed = dict(fixed)
        self._sqlite: dict[tuple[str, ...], Executable] = {}

    def __call__(self, conn: Connection, rows: Rows) -> None:
        names = tuple(rows[0])
        if conn.dialect.name == "postgresql":
            statement = self._postgres_statement(conn.dialect, names)
            fixed = {f"fixed_{name}": value for name, value in self.fixed.items()}
            conn.execute(statement, {"rows": _rows_json(rows), **fixed})
            return
        update = self._sqlite.get(names)
        if update is None:
            table, sets = self.table, [name for name in names if name != self.key]
            update = self._sqlite[names] = (
                table.update()
                .where(table.c[self.key] == bindparam(f"{self.key}_"))
                .values({name: bindparam(f"{name}_") for name in sets} | self.fixed)
            )
        conn.execute(update, [{f"{name}_": row[name] for name in names} for row in rows])

    def _sql(self, columns: Sequence[Column[Any]], dialect: Dialect) -> str:
        table, key, quote = self.table.name, self.key, dialect.identifier_preparer.quote
        sets = [f"{quote(c.name)} = v.{quote(c.name)}" for c in columns if c.name != key]
        sets += [f"{quote(name)} = :fixed_{name}" for name in self.fixed]
        return (
            f"UPDATE {table} SET {', '.join(sets)} FROM {_recordset(self.table)} "
            f"WHERE {table}.{quote(key)} = v.{quote(key)}"
        )
