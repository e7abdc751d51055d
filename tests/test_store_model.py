"""A model-based test of the store: random sequences of real updates — new citizens and
requests, photos before a request, follow-ups and held messages, dispatch, sign, return,
extension, resolve, survey, reopen, merge, supervisors' commands, a failing update, the sweep
with the clock moving — run through the bot's batched, cached store (the database worker,
several updates a batch) and through a plain reference (one transaction per update, the
store's caches forgotten and its kept-back rows written after every call). After every step
both databases must hold the same rows, compared by content: ids the batched store hands out
itself may leave gaps, so a row's id counts only as its ticket's number or its place in its
table.

Twenty examples of fifteen steps per database by default (under a minute each); more with
``HOTLINE_MODEL_EXAMPLES=N`` (N per database, drawn afresh each run).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

import pytest
import sqlalchemy
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from sqlalchemy import select, text, update

from bot.app import build_hotline
from handlers import inbox
from handlers.context import Hotline
from handlers.events import ButtonPress, ChatKind, Content, IncomingMessage, Person
from handlers.model import Role
from handlers.outgoing import Method
from handlers.ports import Store
from handlers.reminders import SweepStep, sweep_steps
from scheduler.service import SweepRunner
from storage.admin import add_staff, set_department_chat, set_office_chat
from storage.database import Database
from storage.departments import sync_departments
from storage.models import Base, OutboxRow, TicketRow
from storage.repository import Bindings, SqlStore
from storage.worker import DatabaseWorker, UpdateAhead, is_unavailable
from tests.conftest import BACKENDS, postgres_url
from tests.world import LABOUR_CHAT, OFFICE, ROADS_CHAT, world_config

EXAMPLES = int(os.environ.get("HOTLINE_MODEL_EXAMPLES", "20"))
# Reminders chasing one dispatch: their step is the assignment's id.
PER_DISPATCH = frozenset({"sign_overdue", "contact_overdue"})
INSTANCE = "model"
SUPERVISOR, ROADS_STAFF, LABOUR_STAFF = 900, 901, 902
STAFF_OF_CHAT = {OFFICE: SUPERVISOR, ROADS_CHAT: ROADS_STAFF, LABOUR_CHAT: LABOUR_STAFF}
CITIZENS = [Person(1001 + i, f"市民{i}", language_code="zh-hans") for i in range(4)]
# Requests the router knows (roads, labour, welfare) and some it does not.
REQUESTS = ["北门路灯坏了三天", "拖欠工资三个月了", "低保怎么申请", "楼道里有只猫", "桥边道路坑洼"]
# Replies to the bot's questions: a reason, an extension (valid or not), an answer, a comment.
REPLIES = [
    "3 天 需要采购配件",
    "2 材料未到",
    "不是我们单位的事",
    "已修复，请查看",
    "九 天 太多",
    "",
]
# The buttons of a ticket's life, pressed by name (a random press lands mostly on the newest
# confirmation's type buttons).
ACTIONS = ["pick", "sign", "return", "extend", "resolve", "rate", "approve", "reject", "held"]
START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Shangri-La


# -- one update, as the model draws it ---------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """A citizen's text: a new request, a follow-up, or held as "add or new?"."""

    citizen: int
    request: int


@dataclass(frozen=True)
class Photo:
    citizen: int


@dataclass(frozen=True)
class Press:
    """The ``pick``-th button shown (the latest first), pressed by the staff of its chat or its
    citizen."""

    pick: int
    action: str | None = None  # among the buttons of this action only (None: any)


@dataclass(frozen=True)
class Reply:
    """A reply to the ``pick``-th question the bot asked (a reason, days, an answer, a
    comment)."""

    pick: int
    reply: int


@dataclass(frozen=True)
class Command:
    """A supervisor's command about the ``pick``-th ticket, in the office chat."""

    name: str
    pick: int


@dataclass(frozen=True)
class Failing:
    """An update whose work fails after it has changed things: nothing of it may remain."""

    inner: Say | Photo | Press


Spec = Say | Photo | Press | Reply | Command | Failing

_spec = st.one_of(
    st.builds(Say, st.integers(0, len(CITIZENS) - 1), st.integers(0, len(REQUESTS) - 1)),
    st.builds(Photo, st.integers(0, len(CITIZENS) - 1)),
    # Presses drive the ticket's life: most often on a button just sent, sometimes any.
    st.builds(Press, st.integers(0, 3), st.sampled_from(ACTIONS)),
    st.builds(Press, st.integers(0, 3), st.sampled_from(ACTIONS)),
    st.builds(Press, st.integers(0, 3), st.sampled_from(ACTIONS)),
    st.builds(Press, st.integers(0, 10_000)),
    st.builds(Reply, st.integers(0, 1), st.integers(0, len(REPLIES) - 1)),
    st.builds(Reply, st.integers(0, 1), st.integers(0, len(REPLIES) - 1)),
    st.builds(Reply, st.integers(0, 10_000), st.integers(0, len(REPLIES) - 1)),
    st.builds(Command, st.sampled_from(["urgent", "nudge", "dispatch"]), st.integers(0, 10_000)),
    st.builds(
        Failing,
        st.one_of(
            st.builds(Say, st.integers(0, len(CITIZENS) - 1), st.integers(0, len(REQUESTS) - 1)),
            st.builds(Press, st.integers(0, 10_000)),
        ),
    ),
)


class PlannedFailure(RuntimeError):
    """The failure a ``Failing`` update ends with."""


# -- the reference: one plain transaction per update -----------------------------------------


class PlainStore:
    """An ``SqlStore`` that keeps nothing between calls: after each call what it kept back is
    written and what it remembered is forgotten, so every look-up asks the database and ids
    are counted from it again."""

    _FORGET = (
        "_citizens",
        "_citizen_of_user",
        "_not_citizens",
        "_without_tickets",
        "_without_items",
        "_bare_tickets",
        "_new_tickets",
        "_claims",
        "_free_ids",
        "_next_ids",
    )

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            result = found(*args, **kwargs)
            self._settle()
            return result

        return call

    def _settle(self) -> None:
        store = self._store
        store._write_pending(store._session)
        for name in self._FORGET:
            getattr(store, name).clear()


def plain_run(
    database: Database,
    work: Callable[[Store], Any],
    after_commit: list[Callable[[], None]] | None = None,
) -> Any:
    """``work`` in a transaction of its own, through a ``PlainStore``. What it does once
    committed (the router learning a dispatch) is done at once, or added to ``after_commit``."""
    with database.transaction() as session:
        store = SqlStore(session, instance=INSTANCE)
        result = work(cast(Store, PlainStore(store)))
    if after_commit is None:
        for action in store.committed_actions:
            action()
    else:
        after_commit.extend(store.committed_actions)
    return result


# -- what the databases hold, by content -------------------------------------------------------


def contents(database: Database, hotline: Hotline) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in id order, ids replaced: a ticket's by its number, any other row's
    by its place in its table; button data by its action, outbox references by their place."""
    tables = Base.metadata.sorted_tables
    with database.read() as session:
        conn = session.connection()
        rows = {
            t.name: conn.execute(select(t).order_by(*t.primary_key.columns)).all() for t in tables
        }
    place = {
        t.name: {row.id: n for n, row in enumerate(rows[t.name])}
        for t in tables
        if "id" in t.c and t.c.id.primary_key
    }
    numbers = {row.id: row.number for row in rows["tickets"]}

    def canonical(table: Any, column: Any, value: Any, row: Any) -> Any:
        if value is None:
            return None
        if column.primary_key and column.name == "id":
            return "-"
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target == "tickets":
                return numbers.get(value, ("missing ticket", value))
            if fk.column.name == "id":
                return place[target].get(value, ("missing", target, value))
        if table.name == "outbox" and column.name == "payload":
            return _payload(value, place["outbox"], hotline)
        if table.name == "outbox" and column.name == "dedupe_key":
            return "dedupe"
        if table.name == "ticket_events" and column.name == "data" and "data" in value:
            # A refused press keeps its button data, ids and all: compared by its action.
            return sorted((value | {"data": _action(hotline, value["data"])}).items())
        if table.name == "reminders" and column.name == "step" and row.kind in PER_DISPATCH:
            # The step of a sign-for or first-contact reminder is its assignment, by id.
            return ("assignment", place["assignments"].get(int(value), ("missing", value)))
        return value

    return {
        t.name: [
            tuple(canonical(t, c, row._mapping[c.name], row) for c in t.columns)
            for row in rows[t.name]
        ]
        for t in tables
    }


def _payload(payload: dict[str, Any], outbox_place: dict[int, int], hotline: Hotline) -> Any:
    shown = dict(payload)
    for key in ("reply_to_outbox_id", "edit_outbox_id"):
        if key in shown:
            shown[key] = outbox_place.get(shown[key], ("missing outbox", shown[key]))
    if "buttons" in shown:
        shown["buttons"] = [
            [(b["text"], _action(hotline, b.get("data")), b.get("url")) for b in row]
            for row in shown["buttons"]
        ]
    return sorted(shown.items(), key=lambda item: item[0])


def _action(hotline: Hotline, data: str | None) -> str | None:
    verified = hotline.buttons.verify(data)
    return verified.action if verified else data


# -- the machine ---------------------------------------------------------------------------------


@dataclass
class Side:
    """One database and the hotline that runs on it."""

    database: Database
    hotline: Hotline
    next_message_id: int = 1


class StoreModel(RuleBasedStateMachine):
    databases: tuple[Database, Database]  # set by the test: batched, plain

    def __init__(self) -> None:
        super().__init__()
        batched_db, plain_db = self.databases
        config = world_config()
        for database in (batched_db, plain_db):
            _reset(database)
            _set_up_world(database, config)
        self.batched = Side(batched_db, build_hotline(config, secret="123:abc"))
        self.plain = Side(plain_db, build_hotline(config, secret="123:abc"))
        self.now = START
        self.update_id = 0
        self.loop = asyncio.new_event_loop()
        self.worker = DatabaseWorker(batched_db, instance=INSTANCE, bindings=Bindings())
        self.loop.run_until_complete(self._start())
        self.sweeper = SweepRunner(self.worker.run, unavailable=is_unavailable)

    async def _start(self) -> None:
        self.worker.start()

    def teardown(self) -> None:
        self.loop.run_until_complete(self.worker.stop())
        self.loop.close()

    # -- rules -----------------------------------------------------------------------------------

    @rule(specs=st.lists(_spec, min_size=1, max_size=4))
    def a_batch_of_updates(self, specs: list[Spec]) -> None:
        """Updates arriving together: one batch of the worker, one transaction each in the
        reference (a citizen may send two of them)."""
        plans = []
        for spec in specs:
            self.update_id += 1
            plans.append(
                (
                    self._update(spec, self.batched, self.update_id),
                    self._update(spec, self.plain, self.update_id),
                )
            )
        batched = self.loop.run_until_complete(self._one_batch([b for b, _ in plans]))
        # The worker does what its updates' commit entails (the router learning a dispatch)
        # once the batch is committed: updates arriving together route with what the hotline
        # knew before them. A batch that failed is run again update by update, each learning
        # before the next.
        one_by_one = any(isinstance(spec, Failing) for spec in specs)
        after_commit: list[Callable[[], None]] = []
        plain = []
        for _, (work, _ahead) in plans:
            try:
                plain.append(
                    plain_run(self.plain.database, work, None if one_by_one else after_commit)
                )
            except PlannedFailure as exc:
                plain.append(repr(exc))
        for action in after_commit:
            action()
        assert batched == plain, "the updates' answers differ"
        self._deliver_and_compare()

    @rule(specs=st.lists(_spec, min_size=1, max_size=4))
    def more_updates(self, specs: list[Spec]) -> None:
        """As ``a_batch_of_updates``: two rules of updates to one of time passing, so that
        examples go further into the tickets' lives."""
        self.a_batch_of_updates(specs)

    @rule(hours=st.sampled_from([1, 4, 20, 49, 75, 170]))
    def time_passes_and_the_sweep_runs(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.loop.run_until_complete(self.sweeper.sweep(self.batched.hotline, self.now))
        for step in sweep_steps(self.plain.hotline, self.now):
            plain_run(self.plain.database, partial(_step, step, self.plain.hotline, self.now))
        self._deliver_and_compare()

    # -- driving the two sides -------------------------------------------------------------------

    async def _one_batch(
        self, plans: list[tuple[Callable[[Store], Any], UpdateAhead]]
    ) -> list[Any]:
        """The plans as one batch of the worker: it is held on a job until all are queued."""
        entered, release = threading.Event(), threading.Event()

        def hold(_: object) -> None:
            entered.set()
            release.wait(10)

        held = self.worker.submit(hold)
        await asyncio.to_thread(entered.wait, 10)
        futures = [
            self.worker.submit(cast(Callable[[SqlStore], Any], work), update=ahead)
            for work, ahead in plans
        ]
        release.set()
        await held
        results: list[Any] = []
        for future in futures:
            try:
                results.append(await future)
            except PlannedFailure as exc:
                results.append(repr(exc))
        return results

    def _update(
        self, spec: Spec, side: Side, update_id: int
    ) -> tuple[Callable[[Store], Any], UpdateAhead]:
        hotline, now = side.hotline, self.now
        if isinstance(spec, Failing):
            inner, ahead = self._update(spec.inner, side, update_id)

            def fail(store: Store) -> Any:
                inner(store)
                raise PlannedFailure(f"update {update_id} fails after its work")

            return fail, ahead
        if isinstance(spec, Say | Photo):
            person = CITIZENS[spec.citizen]
            if isinstance(spec, Say):
                msg = _private(update_id, person, Content.TEXT, text=REQUESTS[spec.request])
            else:
                msg = _private(
                    update_id,
                    person,
                    Content.PHOTO,
                    file_id=f"photo-{update_id}",
                    file_unique_id=f"p{update_id}",
                )
            return _message_work(hotline, msg, now), UpdateAhead(update_id, person.user_id, now)
        if isinstance(spec, Press):
            found = _pick(_buttons(side, spec.action), spec.pick)
            if found is None:
                return _nothing(update_id, now), UpdateAhead(update_id, 0, now)
            chat_id, message_id, data = found
            person = _person_in(chat_id)
            press = ButtonPress(
                update_id=update_id,
                sender=person,
                chat_id=chat_id,
                chat_kind=ChatKind.PRIVATE if chat_id > 0 else ChatKind.GROUP,
                message_id=message_id,
                callback_id=str(update_id),
                data=data,
            )
            work = lambda store: inbox.handle_button(store, hotline, press, now)  # noqa: E731
            return work, UpdateAhead(update_id, person.user_id, now)
        if isinstance(spec, Reply):
            asked = _pick(_questions(side), spec.pick)
            if asked is None:
                return _nothing(update_id, now), UpdateAhead(update_id, 0, now)
            chat_id, message_id, question = asked
            person = _person_in(chat_id)
            msg = IncomingMessage(
                update_id=update_id,
                sender=person,
                chat_id=chat_id,
                chat_kind=ChatKind.PRIVATE if chat_id > 0 else ChatKind.GROUP,
                message_id=10_000 + update_id,
                content=Content.TEXT,
                text=REPLIES[spec.reply],
                reply_to_message_id=message_id,
                reply_to_bot=True,
                reply_to_text=question,
            )
            return _message_work(hotline, msg, now), UpdateAhead(update_id, person.user_id, now)
        number = _pick(_numbers(side), spec.pick)
        if number is None:
            return _nothing(update_id, now), UpdateAhead(update_id, 0, now)
        args = f"{number} roads" if spec.name == "dispatch" else number
        boss = Person(SUPERVISOR, "督办李", language_code="zh-hans")
        msg = IncomingMessage(
            update_id=update_id,
            sender=boss,
            chat_id=OFFICE,
            chat_kind=ChatKind.GROUP,
            message_id=10_000 + update_id,
            content=Content.COMMAND,
            text=f"/{spec.name} {args}",
            command=spec.name,
            command_args=args,
        )
        return _message_work(hotline, msg, now), UpdateAhead(update_id, SUPERVISOR, now)

    def _deliver_and_compare(self) -> None:
        for side in (self.batched, self.plain):
            _deliver(side, self.now)
        batched = contents(self.batched.database, self.batched.hotline)
        plain = contents(self.plain.database, self.plain.hotline)
        # What the examples reach (pytest --hypothesis-show-statistics).
        status = [c.name for c in TicketRow.__table__.columns].index("status")
        reopened = [c.name for c in TicketRow.__table__.columns].index("reopen_count")
        for row in batched["tickets"]:
            event(f"a ticket {row[status]}")
            if row[reopened]:
                event("a ticket reopened")
        # The tickets, their history and the outbox first: a difference there says the most.
        for table in sorted(batched, key=lambda t: t not in ("tickets", "ticket_events", "outbox")):
            assert batched[table] == plain[table], f"{table} differs"


def _nothing(update_id: int, now: datetime) -> Callable[[Store], Any]:
    """An update the hotline has nothing to do for (a press with no button to press yet): it
    is still claimed, as every update is."""
    return lambda store: store.claim_update(update_id, now)


def _step(step: SweepStep, hotline: Hotline, now: datetime, store: Store) -> Any:
    return step.work(store, hotline, now, ())


def _message_work(hotline: Hotline, msg: IncomingMessage, now: datetime) -> Callable[[Store], Any]:
    return lambda store: inbox.handle_message(store, hotline, msg, now)


def _private(update_id: int, person: Person, content: Content, **kw: Any) -> IncomingMessage:
    return IncomingMessage(
        update_id=update_id,
        sender=person,
        chat_id=person.user_id,
        chat_kind=ChatKind.PRIVATE,
        message_id=update_id,
        content=content,
        **kw,
    )


def _person_in(chat_id: int) -> Person:
    if chat_id in STAFF_OF_CHAT:
        return Person(STAFF_OF_CHAT[chat_id], language_code="zh-hans")
    return next((p for p in CITIZENS if p.user_id == chat_id), Person(chat_id))


def _pick(found: list[Any], pick: int) -> Any:
    return found[pick % len(found)] if found else None


def _sent_rows(side: Side) -> list[Any]:
    with side.database.read() as session:
        return list(
            session.execute(
                select(
                    OutboxRow.chat_id,
                    OutboxRow.telegram_message_id,
                    OutboxRow.method,
                    OutboxRow.payload,
                ).order_by(OutboxRow.id)
            )
        )


def _shown(rows: list[Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Each message as the chat shows it now (its last edit's text and buttons), the one sent
    or edited last first: what a person acts on next is most often what just arrived."""
    latest: dict[tuple[int, int], dict[str, Any]] = {}
    for chat_id, message_id, method, payload in rows:
        key = (
            chat_id,
            payload.get("edit_message_id") if method == Method.EDIT_TEXT.value else message_id,
        )
        if key[1] is not None:
            latest.pop(key, None)
            latest[key] = payload
    for (chat_id, message_id), payload in reversed(latest.items()):
        yield chat_id, message_id, payload


def _buttons(side: Side, action: str | None) -> list[tuple[int, int, str]]:
    return [
        (chat_id, message_id, b["data"])
        for chat_id, message_id, payload in _shown(_sent_rows(side))
        for row in payload.get("buttons", ())
        for b in row
        if b.get("data") and action in (None, _action(side.hotline, b["data"]))
    ]


def _questions(side: Side) -> list[tuple[int, int, str]]:
    return [
        (chat_id, message_id, payload.get("text", ""))
        for chat_id, message_id, payload in _shown(_sent_rows(side))
        if payload.get("force_reply")
    ]


def _numbers(side: Side) -> list[str]:
    with side.database.read() as session:
        return list(session.scalars(text("SELECT number FROM tickets ORDER BY id")))


def _deliver(side: Side, now: datetime) -> None:
    """What delivery does, in order: each message sent becomes a Telegram message (an edit
    becomes none, and turns an outbox reference into the message it edits)."""
    with side.database.transaction() as session:
        conn = session.connection()
        pending = conn.execute(
            select(OutboxRow.id, OutboxRow.method, OutboxRow.payload)
            .where(OutboxRow.status == "pending")
            .order_by(OutboxRow.id)
        ).all()
        for outbox_id, method, payload in pending:
            message_id = None
            if method != Method.EDIT_TEXT.value:
                message_id = side.next_message_id
                side.next_message_id += 1
            elif "edit_outbox_id" in payload:
                target = conn.scalar(
                    select(OutboxRow.telegram_message_id).where(
                        OutboxRow.id == payload["edit_outbox_id"]
                    )
                )
                payload = {**payload, "edit_message_id": target}
            conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id == outbox_id)
                .values(
                    status="sent",
                    telegram_message_id=message_id,
                    sent_at=now,
                    payload=payload,
                    claimed_by=None,
                    claimed_until=None,
                )
            )


def _reset(database: Database) -> None:
    tables = Base.metadata.sorted_tables
    with database.transaction() as session:
        conn = session.connection()
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


def _set_up_world(database: Database, config: Any) -> None:
    with database.transaction() as session:
        sync_departments(session, config.departments)
        now = START
        add_staff(
            session, SUPERVISOR, role=Role.SUPERVISOR, department=None, name="督办李", now=now
        )
        add_staff(session, ROADS_STAFF, role=Role.STAFF, department="roads", name="张工", now=now)
        add_staff(
            session, LABOUR_STAFF, role=Role.STAFF, department="labour", name="王社保", now=now
        )
        set_office_chat(session, OFFICE)
        set_department_chat(session, "roads", ROADS_CHAT)
        set_department_chat(session, "labour", LABOUR_CHAT)


# -- the test --------------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def two_databases(
    request: pytest.FixtureRequest, tmp_path: Any
) -> Iterator[tuple[Database, Database]]:
    """Two migrated databases on one backend: the batched one and the reference."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        urls = []
        for name in ("batched", "plain"):
            path = tmp_path / f"{name}.sqlite3"
            path.write_bytes(template.read_bytes())
            urls.append(f"sqlite:///{path}")
    else:
        schema = request.getfixturevalue("postgres_schema")
        second = request.getfixturevalue("second_postgres_schema")
        urls = [postgres_url(schema), postgres_url(second)]
    batched, plain = Database(urls[0]), Database(urls[1])
    if request.param == "sqlite":
        for database in (batched, plain):
            # The model's examples commit thousands of times: no fsync for a throwaway file.
            sqlalchemy.event.listen(database.engine, "connect", _no_fsync)
    yield batched, plain
    batched.dispose()
    plain.dispose()


def _no_fsync(connection: Any, _record: object) -> None:
    connection.execute("PRAGMA synchronous = OFF")


@pytest.fixture(scope="session")
def second_postgres_schema(postgres_schema: str) -> Iterator[str]:
    """Another migrated schema beside the session's, for the reference database."""
    from sqlalchemy import create_engine

    from storage.database import normalize_url
    from tests.conftest import POSTGRES_URL

    assert POSTGRES_URL
    schema = f"{postgres_schema}_plain"
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


def test_the_batched_store_holds_what_one_plain_transaction_per_update_holds(
    two_databases: tuple[Database, Database],
) -> None:
    machine = type("Model", (StoreModel,), {"databases": two_databases})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=15,
            deadline=None,
            derandomize="HOTLINE_MODEL_EXAMPLES" not in os.environ,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
