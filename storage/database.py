"""Engines, sessions and migrations for the one database the hotline keeps.

The storage layer is synchronous SQLAlchemy: the bot runs it on a worker thread that commits
concurrent updates together (storage.worker), and the CLI and scheduler use it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_READONLY = "hotline_readonly"


class DatabaseError(RuntimeError):
    """The database is unreachable or not ready; the message is one line for the operator."""


def normalize_url(raw: str) -> URL:
    """One synchronous driver per database, whatever flavour of URL the operator wrote.

    ``postgresql+asyncpg://`` and ``postgres://`` are accepted and run on psycopg 3, and
    ``sqlite+aiosqlite://`` on the standard library's sqlite3.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseError(f"HOTLINE_DATABASE_URL is not a database URL: {raw!r}") from None
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    raise DatabaseError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def safe_url(url: URL | str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # SAVEPOINTs work and writers take the lock up front (BEGIN IMMEDIATE) instead of
        # failing with "database is locked" when a read turns into a write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Database:
    """An engine, its session factory, and the schema's migration state."""

    def __init__(self, url: str | URL, *, echo: bool = False, pool_size: int = 5) -> None:
        self.url = normalize_url(str(url) if isinstance(url, URL) else url)
        self.dialect = self.url.get_backend_name()
        # Statement parameters are citizens' names, phones and texts: an error (and so a log
        # line or a traceback) shows the SQL without them.
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.dialect == "sqlite":
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            options["pool_size"] = pool_size
            options["pool_pre_ping"] = True
        self.engine = create_engine(self.url, **options)
        if self.dialect == "sqlite":
            _tune_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readonly_sessions = sessionmaker(
            self.engine.execution_options(**{_READONLY: True}), expire_on_commit=False
        )

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (on SQLite it does not take the write lock)."""
        with self._readonly_sessions() as session, session.begin():
            yield session

    def check(self) -> None:
        """Fail with one clear line if the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (OperationalError, SADatabaseError, OSError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise DatabaseError(
                f"cannot reach the database {safe_url(self.url)}: {reason}"
            ) from None

    # -- migrations ---------------------------------------------------------------------------

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        # configparser interpolates "%": URL-escaped characters must be doubled.
        url = self.url.render_as_string(hide_password=False).replace("%", "%%")
        cfg.set_main_option("sqlalchemy.url", url)
        cfg.attributes["engine"] = self.engine
        return cfg

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        self.check()
        command.upgrade(self._alembic_config(), revision)

    def make_revision(self, message: str) -> None:
        """Autogenerate a migration from the models (for developers)."""
        command.revision(self._alembic_config(), message=message, autogenerate=True)

    def ensure_schema(self) -> None:
        """Bring the schema to the code's version, or say what the operator must do.

        The embedded SQLite database upgrades itself, so a first run just works; PostgreSQL is
        production, where migrations are run deliberately with ``hotline db upgrade``.
        """
        self.check()
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        if self.is_sqlite:
            log.info("upgrading the SQLite database from %s to %s", current or "empty", head)
            self.upgrade()
            return
        raise DatabaseError(
            f"the database {safe_url(self.url)} is at schema {current or 'empty'}, "
            f"the code needs {head}: run `hotline db upgrade`"
        )

    def dispose(self) -> None:
        self.engine.dispose()
