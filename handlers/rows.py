"""One bad row must not stop a scheduled job: each row a job works through is named, so that
when it fails the job can be run again without it (in a fresh transaction: see
``scheduler.service.SweepRunner``), and the log says which row, and which ticket, it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class BadRow(Exception):
    """A row of a scheduled job failed; ``__cause__`` is why."""

    def __init__(self, concern: str, key: int, ticket_id: int | None) -> None:
        super().__init__(f"{concern}: row {key} of ticket {ticket_id} failed")
        self.concern = concern
        self.key = key
        self.ticket_id = ticket_id


@contextmanager
def one_row(concern: str, key: int, *, ticket_id: int | None) -> Iterator[None]:
    """Work on one row (``key``: its id, the one a job is told to skip) of ``concern``."""
    try:
        yield
    except BadRow:
        raise
    except Exception as exc:
        raise BadRow(concern, key, ticket_id) from exc
