"""Statistics benchmark: ``python -m bench.stats`` from the project root.

Bulk-loads a year (2025) of tickets — assignments, extensions, resolutions, surveys and quality
checks in realistic proportions — into SQLite (a temporary file) and PostgreSQL (a fresh schema
in ``HOTLINE_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``,
dropped afterwards), with executemany and COPY rather than the ORM. For each size (100,000 and
1,000,000 tickets by default) it:

1. times ``compute_statistics`` for the whole year and for one month without
   ``storage.statistics.STATISTICS_INDEXES`` (dropped after the migrations create them; sizes
   up to ``--baseline-max``: without them every count reads table rows, which at a million
   tickets takes minutes);
2. creates them again, as the migrations do, and times again;
3. measures the peak Python memory of one year's ``compute_statistics`` and of streaming one
   month of ``ticket_rows_for_export`` (tracemalloc), to show neither grows with the tickets;
4. checks that SQLite and PostgreSQL give the same report, and that indexes change no number.

Times are the best and the median of 3 runs after a warm-up run. The proportions (per ticket):
6% returned once and re-dispatched, 4% signed for late (the first contact, 先行联系, is made
when signing for), 5% ask for an extension (80% approved), 95% answered on time, surveys 72%
满意 / 14% 基本满意 / 4% 不满意 (re-opened: a second answer and survey) / 10% timed out
(问题是否已解决: 已解决 with 满意 and 基本满意, 未解决 with 不满意), 10% of answers sampled
for quality (90% inspected, 95% of those pass), 2% merged, 1% withdrawn, a few still open
and overdue. Request texts are real citizen messages from
``HOTLINE_DATA/requests/unlabeled.csv`` (cut at 200 characters), or a fixed sentence when the
file is absent.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from handlers.catalog import load_catalog
from handlers.config import Targets
from handlers.reports import Period, StatisticsReport, report_to_dict
from scheduler.calendar import SHANGHAI
from storage.database import Database, normalize_url
from storage.departments import sync_departments
from storage.statistics import (
    STATISTICS_INDEXES,
    compute_statistics,
    ticket_rows_for_export,
)

DATA = Path(os.environ.get("HOTLINE_DATA", "/work/shared/data"))
POSTGRES_URL = os.environ.get(
    "HOTLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CATALOG = Path(__file__).with_name("catalogs") / "taxonomy.toml"
SEED = 12345
YEAR = 2025
YEAR_PERIOD = Period(date(YEAR, 1, 1), date(YEAR, 12, 31))
MONTH_PERIOD = Period(date(YEAR, 11, 1), date(YEAR, 11, 30))
NOW = datetime(YEAR + 1, 1, 6, 10, 0, tzinfo=SHANGHAI)
TARGETS = {"sqlite": 2.0, "postgres": 1.0}  # seconds for the whole year at 1M tickets
BATCH = 20_000  # tickets generated and inserted at a time: the loader's memory stays small


def drop_index_statements() -> list[str]:
    """``DROP INDEX`` for each statistics index: the migrations create them (since 0001), and
    the baseline is timed without them."""
    return [f"DROP INDEX IF EXISTS {name}" for name in STATISTICS_INDEXES]


def index_statements() -> list[str]:
    """``CREATE INDEX`` for each of the statistics indexes."""
    return [
        f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"
        for name, (table, columns) in STATISTICS_INDEXES.items()
    ]


_EPOCH = datetime(1970, 1, 1)
_DAY = 86_400
_OFFSET = 8 * 3600  # Shanghai is UTC+8 (no daylight saving since 1991)

COLUMNS: dict[str, tuple[str, ...]] = {
    "citizens": ("id", "telegram_user_id", "chat_id", "language", "name", "phone", "created_at"),
    "staff": ("id", "telegram_user_id", "name", "role", "language", "active", "created_at"),
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
        "automatic",
        "sign_due_at",
        "signed_at",
        "returned_at",
        "return_reason",
        "contact_due_at",
        "contacted_at",
    ),
    "extensions": (
        "id",
        "ticket_id",
        "department_code",
        "requested_by",
        "requested_at",
        "working_days",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "old_deadline_at",
        "new_deadline_at",
    ),
    "resolutions": (
        "id",
        "ticket_id",
        "department_code",
        "round",
        "resolved_at",
        "answer",
        "deadline_at",
        "on_time",
        "working_days",
    ),
    "surveys": (
        "id",
        "resolution_id",
        "ticket_id",
        "department_code",
        "sent_at",
        "due_at",
        "rating",
        "rated_at",
        "solved",
    ),
    "quality_checks": (
        "id",
        "resolution_id",
        "ticket_id",
        "department_code",
        "sampled_for",
        "sampled_at",
        "passed",
        "inspected_at",
    ),
}
TABLE_ORDER = ("tickets", "assignments", "extensions", "resolutions", "surveys", "quality_checks")

# -- generation ----------------------------------------------------------------------------------


def request_texts() -> list[str]:
    path = DATA / "requests" / "unlabeled.csv"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            texts = [row["text"].strip()[:200] for row in csv.DictReader(fh) if row["text"].strip()]
    except (OSError, KeyError):
        texts = []
    return texts or ["小区门口路灯已经坏了一个多月，晚上出行很不方便，请尽快派人维修。"]


@dataclass
class Counters:
    assignment: int = 0
    extension: int = 0
    resolution: int = 0
    survey: int = 0
    quality: int = 0
    rows: int = 0


@dataclass
class Generator:
    """Deterministic tickets for one year; ``ts`` formats epoch seconds for the database."""

    tickets: int
    departments: Sequence[str]
    ts: Callable[[int], str]
    seed: int = SEED
    texts: list[str] = field(default_factory=request_texts)
    ids: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        # A few big departments and a long tail, as in any town.
        self.weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.departments))]
        self.now = int(NOW.timestamp())
        self.citizens = max(1, self.tickets // 5)

    def day_counts(self) -> list[tuple[date, int]]:
        days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
        weights = [0.6 if day.weekday() >= 5 else 1.0 for day in days]
        total = sum(weights)
        counts = [int(self.tickets * w / total) for w in weights]
        for i in range(self.tickets - sum(counts)):  # the remainder, one each
            counts[i % len(counts)] += 1
        return list(zip(days, counts, strict=True))

    def citizen_rows(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts(int(datetime(YEAR - 1, 6, 1, tzinfo=UTC).timestamp()))
        for i in range(1, self.citizens + 1):
            phone = f"13{i % 10}{i:08d}"[-11:]
            yield (i, 10_000_000 + i, 10_000_000 + i, "zh", None, phone, created)

    def batches(self) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLE_ORDER}
        ticket_id = 0
        for day, count in self.day_counts():
            midnight = int(datetime.combine(day, datetime.min.time(), SHANGHAI).timestamp())
            times = sorted(
                midnight + self.random.randint(7 * 3600, 23 * 3600) for _ in range(count)
            )
            for sequence, received in enumerate(times, 1):
                ticket_id += 1
                self.ticket(rows, ticket_id, f"{day:%Y%m%d}-{sequence:04d}", received)
                if ticket_id % BATCH == 0:
                    yield rows
                    rows = {table: [] for table in TABLE_ORDER}
        yield rows

    def local_date(self, moment: int) -> str:
        return (_EPOCH + timedelta(seconds=moment + _OFFSET)).date().isoformat()

    def ticket(
        self, rows: dict[str, list[tuple[Any, ...]]], ticket_id: int, number: str, received: int
    ) -> None:
        r, ts, now = self.random, self.ts, self.now
        department = r.choices(self.departments, self.weights)[0]
        deadline = received + 9 * _DAY  # about seven working days
        age = now - received
        fate = r.random()
        status, resolved_at, reopen = "closed", None, 0

        if fate < 0.02:  # merged into an earlier request: never dispatched
            status, department_code = "merged", None
            self._add_ticket(rows, ticket_id, number, received, deadline, status, None, None, 0)
            return
        if fate < 0.025 and age > 20 * _DAY:  # still waiting in the dispatch queue, overdue
            self._add_ticket(rows, ticket_id, number, received, deadline, "received", None, None, 0)
            return
        department_code = department

        # Dispatch (派单), sometimes to the wrong department first (退单, then re-dispatch).
        dispatched = received + r.randint(300, 3 * 3600)
        if r.random() < 0.06:
            wrong = r.choice([d for d in self.departments if d != department])
            returned = dispatched + r.randint(1800, 30 * 3600)
            self._assignment(rows, ticket_id, wrong, dispatched, None, returned)
            dispatched = returned + r.randint(300, 3 * 3600)
        late_sign = r.random() < 0.04
        signed = dispatched + (
            r.randint(_DAY + 600, 3 * _DAY) if late_sign else r.randint(60, 20 * 3600)
        )
        self._assignment(rows, ticket_id, department_code, dispatched, signed, None)

        if fate < 0.03:  # withdrawn by the citizen while in progress
            self._add_ticket(
                rows, ticket_id, number, received, deadline, "withdrawn", department_code, None, 0
            )
            return

        # Extension (延期), decided by a supervisor the next day.
        if r.random() < 0.05:
            requested = signed + r.randint(_DAY, 4 * _DAY)
            decision = r.random()
            state = "approved" if decision < 0.8 else "rejected" if decision < 0.95 else "pending"
            decided = requested + r.randint(3600, _DAY) if state != "pending" else None
            old = deadline
            if state == "approved":
                deadline += 7 * _DAY
            self.ids.extension += 1
            rows["extensions"].append(
                (
                    self.ids.extension,
                    ticket_id,
                    department_code,
                    1,
                    ts(requested),
                    5,
                    "需现场勘查",
                    state,
                    1 if decided else None,
                    ts(decided) if decided else None,
                    ts(old),
                    ts(deadline) if state == "approved" else None,
                )
            )

        # Answer (办结): 95% in time; the last days of the year are partly still open.
        on_time = r.random() < 0.95
        span = deadline - signed
        if on_time:
            resolved = signed + r.randint(3600, max(3601, span - 3600))
        else:
            resolved = deadline + r.randint(3600, 6 * _DAY)
        if resolved > now or fate > 0.995:
            status = "in_progress"  # open; overdue when its deadline has passed
            self._add_ticket(
                rows, ticket_id, number, received, deadline, status, department_code, None, 0
            )
            return
        rating = self._resolution(
            rows, ticket_id, department_code, 1, received, resolved, deadline, on_time
        )
        resolved_at = resolved
        if rating == "unsatisfied":  # 重办: a new deadline, a second answer and survey
            reopen = 1
            again = resolved + r.randint(_DAY, 7 * _DAY)
            if again < now:
                second_deadline = resolved + 10 * _DAY
                second_on_time = again <= second_deadline
                rating = self._resolution(
                    rows,
                    ticket_id,
                    department_code,
                    2,
                    received,
                    again,
                    second_deadline,
                    second_on_time,
                    reopened=True,
                )
                resolved_at = again
            else:
                status = "in_progress"
        if rating is None:
            status = "resolved"  # waiting for the citizen's rating
        self._add_ticket(
            rows,
            ticket_id,
            number,
            received,
            deadline,
            status,
            department_code,
            resolved_at,
            reopen,
        )

    def _add_ticket(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        ticket_id: int,
        number: str,
        received: int,
        deadline: int,
        status: str,
        department: str | None,
        resolved: int | None,
        reopen: int,
    ) -> None:
        r, ts = self.random, self.ts
        closed = resolved + 3 * _DAY if status == "closed" and resolved else None
        rows["tickets"].append(
            (
                ticket_id,
                number,
                r.randint(1, self.citizens),
                r.choice(("consultation", "help", "complaint", "report", "suggestion")),
                r.choice(self.texts),
                status,
                department,
                r.random() < 0.02,
                ts(received),
                ts(deadline),
                False,
                ts(resolved) if resolved else None,
                ts(closed) if closed else None,
                reopen,
                ts(closed or resolved or received),
            )
        )

    def _assignment(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        ticket_id: int,
        department: str,
        dispatched: int,
        signed: int | None,
        returned: int | None,
    ) -> None:
        ts = self.ts
        self.ids.assignment += 1
        rows["assignments"].append(
            (
                self.ids.assignment,
                ticket_id,
                department,
                ts(dispatched),
                True,
                ts(dispatched + _DAY),
                ts(signed) if signed else None,
                ts(returned) if returned else None,
                "不属于本单位职责" if returned else None,
                ts(dispatched + _DAY),
                # 先行联系 when signing for: in time as often as the sign-for is
                ts(signed) if signed and not returned else None,
            )
        )

    def _resolution(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        ticket_id: int,
        department: str,
        round_: int,
        received: int,
        resolved: int,
        deadline: int,
        on_time: bool,
        *,
        reopened: bool = False,
    ) -> str | None:
        """Adds the answer, its survey and maybe a quality check; returns the rating."""
        r, ts, now = self.random, self.ts, self.now
        self.ids.resolution += 1
        resolution_id = self.ids.resolution
        working_days = max(1, round((resolved - received) / _DAY * 5 / 7))
        rows["resolutions"].append(
            (
                resolution_id,
                ticket_id,
                department,
                round_,
                ts(resolved),
                "已办理完毕，详见答复。",
                ts(deadline),
                on_time,
                working_days,
            )
        )
        due = resolved + 3 * _DAY
        draw = r.random()
        rating: str | None
        if due > now and draw < 0.5:
            rating = None  # still waiting
        elif draw < 0.72:
            rating = "satisfied"
        elif draw < 0.86:
            rating = "basic"
        elif draw < 0.90 and not reopened:
            rating = "unsatisfied"
        else:
            rating = "none"
        rated = None
        if rating in ("satisfied", "basic", "unsatisfied"):
            rated = resolved + r.randint(600, 2 * _DAY)
        elif rating == "none":
            rated = due
        self.ids.survey += 1
        rows["surveys"].append(
            (
                self.ids.survey,
                resolution_id,
                ticket_id,
                department,
                ts(resolved),
                ts(due),
                rating,
                ts(rated) if rated else None,
                # 已解决 with 满意/基本满意, 未解决 with 不满意, unanswered otherwise
                None if rating in (None, "none") else rating != "unsatisfied",
            )
        )
        if r.random() < 0.10:
            inspected = resolved + r.randint(_DAY, 5 * _DAY)
            passed = (r.random() < 0.95) if inspected < now and r.random() < 0.9 else None
            self.ids.quality += 1
            rows["quality_checks"].append(
                (
                    self.ids.quality,
                    resolution_id,
                    ticket_id,
                    department,
                    self.local_date(resolved),
                    ts(resolved + 3600),
                    passed,
                    ts(inspected) if passed is not None else None,
                )
            )
        return rating


# -- loading -------------------------------------------------------------------------------------


def sqlite_ts(seconds: int) -> str:
    # The text SQLAlchemy writes for a naive UTC datetime: string order is time order.
    return (_EPOCH + timedelta(seconds=seconds)).isoformat(" ") + ".000000"


def postgres_ts(seconds: int) -> str:
    return (_EPOCH + timedelta(seconds=seconds)).isoformat(" ") + "+00"


class Backend:
    name: str
    ts: Callable[[int], str]

    def __init__(self) -> None:
        self.database: Database

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        with self.database.engine.begin() as conn:
            conn.execute(text(sql))

    def close(self) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    name = "sqlite"
    ts = staticmethod(sqlite_ts)

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.path = directory / "bench.sqlite3"
        self.database = Database(f"sqlite:///{self.path}")
        self.database.upgrade()
        self.raw = sqlite3.connect(self.path)
        self.raw.execute("PRAGMA synchronous=OFF")  # a benchmark's data need not survive a crash

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            columns = COLUMNS[table]
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )

    def commit(self) -> None:
        self.raw.commit()

    def analyze(self) -> None:
        self.raw.execute("ANALYZE")
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()
        self.database.dispose()


class PostgresBackend(Backend):
    name = "postgres"
    ts = staticmethod(postgres_ts)

    def __init__(self, url: str) -> None:
        super().__init__()
        self.schema = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(normalize_url(url))
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        scoped = normalize_url(url).update_query_dict({"options": f"-csearch_path={self.schema}"})
        self.database = Database(scoped.render_as_string(hide_password=False))
        self.database.upgrade()
        self.raw = self.database.engine.raw_connection()

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cursor = self.raw.cursor()
        try:
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def commit(self) -> None:
        self.raw.commit()

    def analyze(self) -> None:
        self.raw.commit()
        driver = self.raw.driver_connection
        assert driver is not None
        driver.autocommit = True  # VACUUM cannot run in a transaction
        driver.execute("VACUUM ANALYZE")  # the visibility map makes index-only scans possible
        driver.autocommit = False

    def close(self) -> None:
        self.raw.close()
        self.database.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


def load(backend: Backend, tickets: int, departments: Sequence[str]) -> tuple[float, int]:
    """Fill the backend; returns (seconds, rows inserted)."""
    started = time.perf_counter()
    generator = Generator(tickets, departments, backend.ts)
    created = backend.ts(int(datetime(YEAR - 1, 6, 1, tzinfo=UTC).timestamp()))
    backend.insert("staff", [(1, 1, "督办员", "supervisor", "zh", True, created)])
    citizens = list(generator.citizen_rows())
    backend.insert("citizens", citizens)
    rows = 1 + len(citizens)
    for batch in generator.batches():
        for table in TABLE_ORDER:
            backend.insert(table, batch[table])
            rows += len(batch[table])
        backend.commit()
    backend.analyze()
    return time.perf_counter() - started, rows


# -- measuring -----------------------------------------------------------------------------------


def run_statistics(database: Database, period: Period) -> StatisticsReport:
    with database.read() as session:
        return compute_statistics(session, period, now=NOW, targets=Targets())


def timed(
    database: Database, period: Period, repeat: int = 3
) -> tuple[float, float, StatisticsReport]:
    """(best, median) seconds of ``repeat`` runs after one warm-up run, and the report."""
    report = run_statistics(database, period)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = run_statistics(database, period)
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), report


def peak_memory(function: Callable[[], object]) -> float:
    """Peak Python allocation (MiB) while ``function`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def export_month(database: Database) -> int:
    with database.read() as session:
        return sum(1 for _ in ticket_rows_for_export(session, MONTH_PERIOD))


@dataclass
class Result:
    backend: str
    tickets: int
    indexes: str
    year_best: float
    year_median: float
    month_best: float
    load_s: float | None = None
    rows: int | None = None
    index_s: float | None = None
    peak_mib: float | None = None
    export_rows: int | None = None
    export_s: float | None = None
    export_mib: float | None = None


def measure(backend: Backend, tickets: int, indexes: str) -> tuple[Result, StatisticsReport]:
    year_best, year_median, report = timed(backend.database, YEAR_PERIOD)
    month_best, _, _ = timed(backend.database, MONTH_PERIOD)
    return Result(backend.name, tickets, indexes, year_best, year_median, month_best), report


def comparable(report: StatisticsReport) -> dict[str, Any]:
    data = report_to_dict(report)
    data.pop("generated_at")
    return data


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def bench_backend(
    make: Callable[[], Backend],
    sizes: Sequence[int],
    departments: Sequence[str],
    baseline_max: int,
) -> tuple[list[Result], dict[int, dict[str, Any]]]:
    results: list[Result] = []
    reports: dict[int, dict[str, Any]] = {}
    for size in sizes:
        backend = make()
        try:
            for statement in drop_index_statements():  # also makes the bulk load faster
                backend.execute(statement)
            progress(f"{backend.name}: loading {size:,} tickets …")
            load_s, rows = load(backend, size, departments)
            baseline: dict[str, Any] | None = None
            if size <= baseline_max:
                result, report = measure(backend, size, "without")
                baseline = comparable(report)
                results.append(result)
                progress(f"{result}")
            started = time.perf_counter()
            for statement in index_statements():
                backend.execute(statement)
            backend.analyze()
            index_s = time.perf_counter() - started
            result, report = measure(backend, size, "+stats")
            reports[size] = comparable(report)
            assert baseline is None or baseline == reports[size], "an index changed the numbers"
            result.load_s, result.rows, result.index_s = load_s, rows, index_s
            database = backend.database
            result.peak_mib = peak_memory(partial(run_statistics, database, YEAR_PERIOD))
            started = time.perf_counter()
            result.export_rows = export_month(database)
            result.export_s = time.perf_counter() - started
            result.export_mib = peak_memory(partial(export_month, database))
            results.append(result)
            progress(f"{result}")
        finally:
            backend.close()
    return results, reports


def _cell(value: float | int | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'backend':<9} {'tickets':>9} {'rows':>10} {'load s':>7} {'indexes':<9} "
        f"{'index s':>7} {'year best':>9} {'year med':>8} {'target':>9} {'month':>6} "
        f"{'peak MiB':>8} {'export month':>13} {'export s':>8} {'exp MiB':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        target = TARGETS[r.backend]
        verdict = ""
        if r.tickets >= 1_000_000:
            verdict = ("ok" if r.year_best < target else "SLOW") + f" <{target:g}s"
        print(
            f"{r.backend:<9} {r.tickets:>9,} {_cell(r.rows, ',d'):>10} {_cell(r.load_s, '.0f'):>7} "
            f"{r.indexes:<9} {_cell(r.index_s, '.1f'):>7} {r.year_best:>9.3f} "
            f"{r.year_median:>8.3f} {verdict:>9} {r.month_best:>6.3f} "
            f"{_cell(r.peak_mib, '.2f'):>8} "
            f"{(f'{r.export_rows:,} rows' if r.export_rows else ''):>13} "
            f"{_cell(r.export_s, '.2f'):>8} {_cell(r.export_mib, '.2f'):>7}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="comma-separated ticket counts (default 100000,1000000)",
    )
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=100_000,
        help="also time without the statistics indexes up to this many tickets (default 100000)",
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    departments = load_catalog(CATALOG).codes
    print(
        f"statistics benchmark: {len(departments)} departments, tickets over {YEAR}, "
        f"year = {YEAR_PERIOD.label}, month = {MONTH_PERIOD.label}; times: best and median of 3 "
        "warm runs; peak MiB = tracemalloc peak of one compute_statistics (year); "
        "export = ticket_rows_for_export streamed for the month",
        flush=True,
    )
    catalog = load_catalog(CATALOG)
    results: list[Result] = []
    reports: dict[str, dict[int, dict[str, Any]]] = {}
    directory = Path(tempfile.mkdtemp(prefix="hotline-bench-"))

    def sqlite_backend() -> Backend:
        for leftover in directory.glob("bench.sqlite3*"):
            leftover.unlink()
        backend = SqliteBackend(directory)
        with backend.database.transaction() as session:
            sync_departments(session, catalog)
        return backend

    def postgres_backend() -> Backend:
        backend = PostgresBackend(args.postgres_url)
        with backend.database.transaction() as session:
            sync_departments(session, catalog)
        return backend

    try:
        if not args.skip_sqlite:
            found, reports["sqlite"] = bench_backend(
                sqlite_backend, sizes, departments, args.baseline_max
            )
            results += found
        if not args.skip_postgres:
            found, reports["postgres"] = bench_backend(
                postgres_backend, sizes, departments, args.baseline_max
            )
            results += found
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print()
    print_table(results)
    if len(reports) == 2:
        same = all(reports["sqlite"][size] == reports["postgres"][size] for size in sizes)
        print(f"\nSQLite and PostgreSQL reports identical for every size: {same}")
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
