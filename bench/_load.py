"""Bulk loading for the benchmarks: rows straight into citizens, staff, tickets, assignments and
ticket_counters — ``executemany`` on SQLite, ``COPY`` on PostgreSQL — bypassing the ORM.

Timestamps are written as SQLAlchemy's ``UtcDateTime`` writes them (naive UTC text on SQLite,
``timestamptz`` on PostgreSQL), so the bot reads the rows exactly as if it had written them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from storage.database import Database

COLUMNS: dict[str, tuple[str, ...]] = {
    "citizens": ("id", "telegram_user_id", "chat_id", "language", "name", "created_at"),
    "staff": (
        "id",
        "telegram_user_id",
        "name",
        "role",
        "department_code",
        "language",
        "active",
        "created_at",
    ),
    "tickets": (
        "id",
        "number",
        "citizen_id",
        "request_type",
        "text",
        "status",
        "department_code",
        "urgent",
        "received_at",
        "deadline_at",
        "deadline_estimated",
        "signed_by",
        "resolved_at",
        "closed_at",
        "reopen_count",
        "updated_at",
    ),
    "assignments": (
        "id",
        "ticket_id",
        "department_code",
        "dispatched_at",
        "dispatched_by",
        "automatic",
        "confidence",
        "sign_due_at",
        "signed_at",
        "signed_by",
    ),
}


class BulkLoader:
    """Fast inserts into one migrated database (SQLite file or PostgreSQL schema)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sqlite = database.is_sqlite
        if self.sqlite:
            path = database.url.database
            assert path
            self.raw: Any = sqlite3.connect(path)
            self.raw.execute("PRAGMA synchronous=OFF")  # benchmark data need not survive a crash
            self.raw.execute("PRAGMA foreign_keys=OFF")
        else:
            self.raw = database.engine.raw_connection()

    # -- values as the database stores them -------------------------------------------------

    def ts(self, moment: datetime | None) -> Any:
        if moment is None:
            return None
        utc = moment.astimezone(UTC)
        if self.sqlite:
            return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
        return utc

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    # -- writing ------------------------------------------------------------------------------

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )
            return
        cursor = self.raw.cursor()
        try:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def set_counters(self, counters: Iterable[tuple[date, int]]) -> None:
        """ticket_counters: the last sequence handed out each day (so the bot continues it)."""
        rows = [(day.isoformat() if self.sqlite else day, last) for day, last in counters]
        if not rows:
            return
        mark = "?" if self.sqlite else "%s"
        sql = (
            f"INSERT INTO ticket_counters (day, last) VALUES ({mark}, {mark}) "
            "ON CONFLICT (day) DO UPDATE SET last = excluded.last"
        )
        cursor = self.raw.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def max_id(self, table: str) -> int:
        cursor = self.raw.cursor()
        try:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def commit(self) -> None:
        self.raw.commit()

    def finish(
        self, tables: Sequence[str] = ("citizens", "staff", "tickets", "assignments")
    ) -> None:
        """Commit, move PostgreSQL's id sequences past the loaded ids, refresh statistics."""
        self.raw.commit()
        if self.sqlite:
            self.raw.execute("ANALYZE")
            self.raw.commit()
            return
        cursor = self.raw.cursor()
        try:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        finally:
            cursor.close()
        self.raw.commit()
        driver = self.raw.driver_connection
        driver.autocommit = True  # VACUUM cannot run in a transaction
        # Only this schema's tables (search_path): a bare VACUUM would visit every schema of the
        # shared database. The visibility map makes index-only scans possible.
        driver.execute(f"VACUUM ANALYZE {', '.join([*tables, 'ticket_counters'])}")
        driver.autocommit = False

    def close(self) -> None:
        self.raw.close()


def table_size(database: Database, table: str) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
