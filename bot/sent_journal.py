"""What Telegram accepted, written down the moment it answers.

Delivery records its sends in the database in batches, behind the updates waiting for the
database worker. A process killed in a burst would leave dozens of sent messages unrecorded,
and whoever claimed them once their lease ran out would send them again. So each send is first
appended to a local file — one write, which the operating system keeps when the process is
killed — and a process starting up records what the journals of stopped processes hold before
it sends anything. After a crash, only the messages in flight at that moment can go twice.

Journals live beside each other: ``PATH``, ``PATH.1``, ``PATH.2`` …; a running process holds
one under an exclusive lock, so two processes started in one directory (a restart overlapping
the old process) each write their own, and a journal nobody holds is a stopped process's.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

Sent = tuple[int, int | None, datetime]  # outbox id, Telegram message id, when


@dataclass
class _Held:
    path: Path
    fd: int


@dataclass
class SentJournal:
    path: Path
    _own: _Held | None = None
    _stopped: list[_Held] = field(default_factory=list)

    def open(self) -> list[Sent]:
        """Take a journal to write, and return what the journals of stopped processes (this
        one's last run included) hold: sends to record before anything is sent again."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        leftovers: list[Sent] = []
        for candidate in self._existing():
            held = _lock(candidate)
            if held is None:
                continue  # a running process's journal
            leftovers += _read(candidate)
            if self._own is None:
                self._own = held
            else:
                self._stopped.append(held)
        index = 0
        while self._own is None:
            candidate = (
                self.path if index == 0 else self.path.with_name(f"{self.path.name}.{index}")
            )
            self._own = _lock(candidate)
            index += 1
        return leftovers

    def recorded_leftovers(self) -> None:
        """The leftovers ``open`` returned are in the database: their journals are done."""
        for held in self._stopped:
            os.close(held.fd)
            held.path.unlink(missing_ok=True)
        self._stopped.clear()
        self.clear()

    def write(self, sent: list[Sent]) -> None:
        if self._own is None:
            raise RuntimeError("open() the journal first")
        lines = "".join(
            f"{outbox_id} {'-' if message_id is None else message_id} {at.isoformat()}\n"
            for outbox_id, message_id, at in sent
        )
        os.write(self._own.fd, lines.encode())

    def clear(self) -> None:
        """Everything written so far is recorded in the database."""
        if self._own is not None:
            os.ftruncate(self._own.fd, 0)

    def close(self) -> None:
        for held in [*self._stopped, *([self._own] if self._own else [])]:
            os.close(held.fd)
        self._own, self._stopped = None, []

    def _existing(self) -> list[Path]:
        siblings = self.path.parent.glob(f"{self.path.name}.*")
        numbered = sorted(
            (p for p in siblings if p.suffix[1:].isdigit()), key=lambda p: int(p.suffix[1:])
        )
        return ([self.path] if self.path.exists() else []) + numbered


def _lock(path: Path) -> _Held | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return _Held(path, fd)


def _read(path: Path) -> list[Sent]:
    sent: list[Sent] = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        try:
            outbox_id, message_id, at = line.split(" ")
            sent.append(
                (
                    int(outbox_id),
                    None if message_id == "-" else int(message_id),
                    datetime.fromisoformat(at),
                )
            )
        except ValueError:
            # A line cut short by the crash: that send counts as one in flight.
            log.warning("%s line %d unreadable; skipped", path, number)
    return sent
