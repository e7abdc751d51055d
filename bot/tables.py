"""Tables for operators' shells, printed whole: no name is cut short, in Chinese or English."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

# Wide enough for any table of ours at its natural width; only used to measure it.
_UNLIMITED = 10_000


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` with every cell complete.

    On a terminal, a cell too long for its column wraps inside it (Rich's default would end a
    Chinese name with "…", since it has no spaces to wrap at). Into a file or a pipe, where Rich
    assumes 80 columns, the table is printed at its natural width, one line per row.
    """
    for column in table.columns:
        column.overflow = "fold"
    console = console or Console()
    if not console.is_terminal:
        natural = Console(width=_UNLIMITED).measure(table).maximum
        console = Console(width=max(natural, console.width), file=console.file)
    console.print(table)
