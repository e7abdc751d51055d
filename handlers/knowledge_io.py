"""Knowledge base entries to and from CSV (``hotline kb import`` / ``export``, the benchmark).

Columns: ``question`` and ``answer`` are required; ``id``, ``department``, ``alternatives``
(phrasings separated by ``|``), ``keywords`` (separated by ``|``), ``valid_from`` and
``valid_until`` (YYYY-MM-DD) and ``active`` (yes/no) are optional. A row without an ``id`` gets
one derived from its question, so importing the same file again finds the same entry.

A file is read whole before anything is stored: one malformed row rejects the file, naming its
line, so an import never leaves half a file behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from handlers.knowledge import KnowledgeEntry

REQUIRED_COLUMNS = ("question", "answer")
COLUMNS = (
    "id",
    "question",
    "alternatives",
    "answer",
    "department",
    "keywords",
    "valid_from",
    "valid_until",
    "active",
)
MAX_ID = 64
MAX_QUESTION = 500
MAX_ANSWER = 4000
_TRUE = {"", "1", "yes", "y", "true", "是"}
_FALSE = {"0", "no", "n", "false", "否"}


class KnowledgeFileError(ValueError):
    """A file that cannot be imported; the message names the line and what is wrong."""


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]


def derived_id(question: str) -> str:
    """A stable id for a row without one: the same question gives the same id."""
    return "q-" + hashlib.blake2b(question.strip().encode(), digest_size=6).hexdigest()


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


def _day(cell: str, column: str, line: int) -> date | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return date.fromisoformat(cell)
    except ValueError:
        raise KnowledgeFileError(
            f"line {line}: {column} {cell!r} is not a date (YYYY-MM-DD)"
        ) from None


def parse_entries(
    text: str, known_departments: Iterable[str] | None = None
) -> list[KnowledgeEntry]:
    """The entries of a CSV text (a BOM is allowed). Raises ``KnowledgeFileError`` for the first
    bad row; ``known_departments``, when given, is the set of codes a row may name."""
    return [entry for _line, entry in parse_entry_lines(text, known_departments)]


def parse_entry_lines(
    text: str, known_departments: Iterable[str] | None = None
) -> list[tuple[int, KnowledgeEntry]]:
    """As ``parse_entries``, each entry with the line its row ends on (for a caller that
    refuses a row for a reason of its own, such as the desk's ownership of entries)."""
    departments = set(known_departments) if known_departments is not None else None
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise KnowledgeFileError(
            f"line 1: the header needs the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(missing: {', '.join(missing)})"
        )
    reader.fieldnames = header
    entries: list[tuple[int, KnowledgeEntry]] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            # The line the row ends on, as an editor shows it (a quoted cell may span lines).
            line = reader.line_num
            entries.append((line, _entry(_Row(line, cells), departments, seen)))
    except csv.Error as exc:
        raise KnowledgeFileError(f"line {reader.line_num}: {exc}") from None
    return entries


def _entry(row: _Row, departments: set[str] | None, seen: dict[str, int]) -> KnowledgeEntry:
    line, cells = row.line, row.cells
    if None in cells:  # DictReader puts extra cells under the key None
        raise KnowledgeFileError(f"line {line}: more cells than columns")

    def cell(name: str) -> str:
        return (cells.get(name) or "").strip()

    question, answer = cell("question"), cell("answer")
    if not question:
        raise KnowledgeFileError(f"line {line}: the question is empty")
    if not answer:
        raise KnowledgeFileError(f"line {line}: the answer is empty")
    if len(question) > MAX_QUESTION:
        raise KnowledgeFileError(f"line {line}: the question is over {MAX_QUESTION} characters")
    if len(answer) > MAX_ANSWER:
        raise KnowledgeFileError(f"line {line}: the answer is over {MAX_ANSWER} characters")
    identifier = cell("id") or derived_id(question)
    if len(identifier) > MAX_ID or any(c.isspace() for c in identifier):
        raise KnowledgeFileError(
            f"line {line}: the id {identifier!r} must be at most {MAX_ID} characters, no spaces"
        )
    if identifier in seen:
        raise KnowledgeFileError(
            f"line {line}: the id {identifier!r} is already on line {seen[identifier]}"
        )
    seen[identifier] = line
    department = cell("department") or None
    if department is not None and departments is not None and department not in departments:
        raise KnowledgeFileError(f"line {line}: unknown department {department!r}")
    valid_from = _day(cell("valid_from"), "valid_from", line)
    valid_until = _day(cell("valid_until"), "valid_until", line)
    if valid_from and valid_until and valid_until < valid_from:
        raise KnowledgeFileError(f"line {line}: valid_until is before valid_from")
    active_cell = cell("active").lower()
    if active_cell not in _TRUE | _FALSE:
        raise KnowledgeFileError(f"line {line}: active must be yes or no, not {active_cell!r}")
    return KnowledgeEntry(
        id=identifier,
        question=question,
        answer=answer,
        department=department,
        alternatives=_split(cell("alternatives")),
        keywords=_split(cell("keywords")),
        valid_from=valid_from,
        valid_until=valid_until,
        active=active_cell in _TRUE,
    )


def format_entries(entries: Iterable[KnowledgeEntry]) -> str:
    """The entries as CSV text with every column, readable by ``parse_entries``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.id,
                entry.question,
                "|".join(entry.alternatives),
                entry.answer,
                entry.department or "",
                "|".join(entry.keywords),
                entry.valid_from.isoformat() if entry.valid_from else "",
                entry.valid_until.isoformat() if entry.valid_until else "",
                "yes" if entry.active else "no",
            ]
        )
    return out.getvalue()
