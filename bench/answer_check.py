"""How many real answers each rule of the answer pre-check (答复预检) flags.

    python -m bench.answer_check --input PATH [--request-columns 留言主题,留言详情]
                                 [--answer-column 答复意见] [--show N]

PATH is an .xlsx (first sheet) or .csv of request/answer pairs; the defaults fit 附件4 of the
TipDM 2020 set (120 messages to a city's mayor mailbox and the government's answers), which is
read from where it lies and never copied into the project. The requests are the columns given,
joined; no department's numbers are known here, so every phone number in an answer counts.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import Counter
from pathlib import Path

from handlers.answer_check import Flag, check_answer, content_chars, foreign_number_kinds


def read_rows(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
        return [
            {name: "" if v is None else str(v) for name, v in zip(header, row, strict=False)}
            for row in rows[1:]
            if any(cell is not None for cell in row)
        ]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--request-columns", default="留言主题,留言详情")
    parser.add_argument("--answer-column", default="答复意见")
    parser.add_argument("--show", type=int, default=0, help="print the first N flagged pairs")
    args = parser.parse_args(argv)
    if not args.input.is_file():
        print(f"{args.input}: no such file", file=sys.stderr)
        return 2
    rows = read_rows(args.input)
    columns = [c.strip() for c in args.request_columns.split(",") if c.strip()]
    missing = [c for c in [*columns, args.answer_column] if rows and c not in rows[0]]
    if missing:
        print(f"{args.input}: no column {missing[0]!r}", file=sys.stderr)
        return 2
    counts: Counter[Flag] = Counter()
    numbers: Counter[str] = Counter()
    flagged = by_content = shown = 0
    lengths: list[int] = []
    for row in rows:
        request = "\n".join(row[c] for c in columns)
        answer = row[args.answer_column]
        lengths.append(content_chars(answer))
        check = check_answer(request, answer)
        counts.update(check.flags)
        numbers.update({kind for kind, _ in foreign_number_kinds(answer)})
        flagged += not check.passed
        by_content += any(flag is not Flag.FOREIGN_NUMBER for flag in check.flags)
        if not check.passed and shown < args.show:
            shown += 1
            print(f"- {', '.join(check.flags)} ({check.answer_chars}/{check.required_chars}):")
            print(f"  {' '.join(answer.split())[:160]}")
    total = len(rows)
    print(
        f"pairs: {total}; answer length (characters of content): median "
        f"{statistics.median(lengths) if lengths else 0:g}, shortest {min(lengths, default=0)}"
    )
    if not total:
        print("no pairs")
        return 0
    print(
        f"flagged by any rule: {flagged} ({flagged / total:.1%}); by the rules on the words "
        f"(all but numbers): {by_content} ({by_content / total:.1%})"
    )
    for flag in Flag:
        share = counts[flag] / total
        print(f"  {flag.value:16} {counts[flag]:4d}  ({share:.1%})")
    kinds = ", ".join(f"{kind} {numbers[kind]}" for kind in ("landline", "mobile", "id"))
    print(f"  answers with a number, by kind (no department's own numbers known): {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
