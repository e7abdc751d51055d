"""How many SQL statements the intake's unit of work runs: a benchmark figure, not a test.

``python -m bench.statements`` (``--postgres URL`` for PostgreSQL too) prints, for one
transaction each: three ticket numbers, a batch of five new requests (claimed, looked up,
routed and dispatched), and eight queued messages, counted by table and kind.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from bot.app import build_hotline
from handlers import inbox
from handlers.config import config_from_mapping
from handlers.events import ChatKind, Content, IncomingMessage, Person
from handlers.outgoing import Outgoing
from scheduler.deadlines import local_date
from storage.database import Database
from storage.departments import sync_departments
from storage.repository import SqlStore

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DEPARTMENTS = [
    {"code": "roads", "name_zh": "村镇规划建设服务中心", "name_en": "Planning and Construction",
     "keywords": ["路灯", "道路", "自来水", "桥梁", "坑洼"]},
]  # fmt: skip
REQUESTS = ["北门路灯坏了", "桥边道路坑洼", "村口自来水停了", "南街路灯不亮", "东桥桥梁裂缝"]


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


def _kinds(statements: list[str]) -> tuple[int, str]:
    """How many statements (BEGIN aside), and how many of each kind and table."""
    kinds = Counter(
        " ".join(s.split()[:3]) if s.startswith("INSERT") else " ".join(s.split()[:2]).rstrip(",")
        for s in statements
        if not s.startswith("BEGIN")
    )
    return kinds.total(), ", ".join(f"{n}× {kind}" for kind, n in sorted(kinds.items()))


def measure(database: Database) -> list[tuple[str, int, str]]:
    config = config_from_mapping(
        {"departments": DEPARTMENTS, "routing": {"auto_dispatch_threshold": 0.0}}
    )
    with database.transaction() as session:
        sync_departments(session, config.departments)
    hotline = build_hotline(config, secret="bench")
    figures = []

    with counting(database) as statements, database.transaction() as session:
        store = SqlStore(session)
        for _ in range(3):
            store.next_ticket_number(local_date(NOW))
    figures.append(("three ticket numbers", *_kinds(statements)))

    with counting(database) as statements, database.transaction() as session:
        store = SqlStore(session)
        users = [5000 + i for i in range(len(REQUESTS))]
        store.claim_updates([(u, NOW) for u in users])
        store.look_up_citizens(set(users))
        for user, text in zip(users, REQUESTS, strict=True):
            person = Person(user, f"市民{user}")
            msg = IncomingMessage(
                update_id=user, sender=person, chat_id=user, chat_kind=ChatKind.PRIVATE,
                message_id=1, content=Content.TEXT, text=text,
            )  # fmt: skip
            inbox.handle_message(store, hotline, msg, NOW)
    figures.append(("five new requests, one batch", *_kinds(statements)))

    with counting(database) as statements, database.transaction() as session:
        store = SqlStore(session, instance="bench")
        for n in range(8):
            key = "once" if n in (2, 6) else None
            store.queue(Outgoing(chat_id=777, text=str(n), dedupe_key=key), NOW)
    figures.append(("eight queued messages (two deduplicated)", *_kinds(statements)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database may be filled")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        urls = {"SQLite": f"sqlite:///{Path(scratch) / 'statements.sqlite3'}"}
        if args.postgres:
            urls["PostgreSQL"] = args.postgres
        print("| database | unit of work | statements | by kind |")
        print("|---|---|---|---|")
        for name, url in urls.items():
            database = Database(url)
            database.upgrade()
            try:
                for what, count, kinds in measure(database):
                    print(f"| {name} | {what} | {count} | {kinds} |")
            finally:
                database.dispose()


if __name__ == "__main__":
    main()
