"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a fake Telegram.

PostgreSQL runs when ``HOTLINE_TEST_POSTGRES_URL`` is set (CI sets it); otherwise those tests
are skipped with that reason shown in the summary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.sent_journal import SentJournal
from handlers.config import HotlineConfig, load_config
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.database import Database, normalize_url
from storage.departments import sync_departments
from storage.models import Base

pytest_plugins = ["tests.network_guard", "tests.fake_bot_api_fixture", "tests.world"]

POSTGRES_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def hotline_config() -> HotlineConfig:
    return load_config(None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated with Alembic; each test gets a copy (much faster than
    migrating per test, and the migrations themselves are what built it)."""
    path = tmp_path_factory.mktemp("template") / "hotline.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL database, migrated once for the session."""
    if not POSTGRES_URL:
        if os.environ.get("HOTLINE_REQUIRE_POSTGRES"):
            pytest.fail("HOTLINE_REQUIRE_POSTGRES is set but HOTLINE_TEST_POSTGRES_URL is not")
        pytest.skip(
            "PostgreSQL tests need HOTLINE_TEST_POSTGRES_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = f"hotline_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(postgres_url(schema))
    try:
        database.upgrade()
        database.dispose()
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_url(schema: str) -> str:
    """The test database URL with every connection's search_path set to ``schema``."""
    assert POSTGRES_URL
    url = normalize_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each backend."""
    return empty_database_url(request, request.param, tmp_path)


def empty_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A migrated, empty database on ``backend`` (one of BACKENDS)."""
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hotline.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    schema = request.getfixturevalue("postgres_schema")
    url = postgres_url(schema)
    engine = create_engine(normalize_url(url))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def database(database_url: str, hotline_config: HotlineConfig) -> Iterator[Database]:
    db = Database(database_url)
    with db.transaction() as session:
        sync_departments(session, hotline_config.departments)
    yield db
    db.dispose()


# A Friday morning in Shangri-La: the working week has a day left.
TEST_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def sent_journal(tmp_path: Path) -> Iterator[SentJournal]:
    """An opened delivery journal (bot.sent_journal), for a Delivery built by hand."""
    journal = SentJournal(tmp_path / "delivery.journal")
    journal.open()
    yield journal
    journal.close()
