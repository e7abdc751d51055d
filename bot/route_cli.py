"""``hotline route``: route one text, or a file of them, as the bot would (for dispatchers and
for measuring the router on real data)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.settings import get_settings
from handlers.catalog import Catalog, CatalogError, load_catalog
from handlers.config import DEFAULT_AUTO_DISPATCH_THRESHOLD, ConfigError, load_config
from handlers.routing import DepartmentRouter, RoutingDecision

# Real request files are big and their text cells long.
csv.field_size_limit(sys.maxsize)


def request_text(row: dict[str, str], text_column: str) -> str:
    """The text to route: the subject (when there is one) before the text, as in the bench."""
    subject = (row.get("subject") or "").strip()
    text = row.get(text_column) or ""
    return f"{subject}\n{text}" if subject else text


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


def label_codes(catalog: Catalog) -> dict[str, str]:
    """History labels may be codes or names (a category name, as in the TipDM data)."""
    codes: dict[str, str] = {}
    for department in catalog.departments:
        for label in (*department.aliases, department.name_en, department.name_zh, department.code):
            codes[label.strip()] = department.code
    return codes


def configured_catalog() -> tuple[Catalog, float]:
    """The departments and auto-dispatch threshold the running bot would use: those of the
    HOTLINE_CONFIG file, else the built-in ones shipped in the package (found from any
    directory)."""
    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}") from None
    config = load_config(settings.config)
    return config.departments, config.auto_dispatch_threshold


def decision_row(identifier: str, decision: RoutingDecision, catalog: Catalog) -> dict[str, Any]:
    """One routed request. ``department`` is the department's (Chinese) name, the vocabulary
    of request labels; ``department_code`` is its code."""

    def name(code: str | None) -> str | None:
        department = catalog.get(code) if code else None
        return department.name_zh if department else code

    return {
        "id": identifier,
        "department": name(decision.department),
        "department_code": decision.department,
        "confidence": round(decision.confidence, 4),
        "top3": [
            {"department": name(c.code), "code": c.code, "score": round(c.score, 4)}
            for c in decision.candidates
        ],
        "automatic": decision.automatic,
    }


def route(
    text: Annotated[
        str | None, typer.Argument(metavar="TEXT", help="a request text to route")
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="department catalog TOML (default: the departments the bot routes to, "
            "from HOTLINE_CONFIG or built in)",
        ),
    ] = None,
    history: Annotated[
        Path | None, typer.Option("--history", help="CSV of past routings: text,label[,subject]")
    ] = None,
    input_path: Annotated[
        Path | None, typer.Option("--input", help="CSV of requests to route")
    ] = None,
    text_column: Annotated[str, typer.Option("--text-column")] = "text",
    id_column: Annotated[str, typer.Option("--id-column")] = "id",
    output: Annotated[
        Path | None,
        typer.Option("--output", help="result file: .csv, or .jsonl/.json for JSON lines"),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="auto-dispatch confidence (default: catalog's)"),
    ] = None,
) -> None:
    """Route TEXT (or every row of --input) to departments: top 3 with confidence, and whether
    it would be dispatched automatically."""

    def fail(message: str) -> None:
        typer.echo(f"hotline: error: {message}", err=True)
        raise typer.Exit(2)

    if (text is None) == (input_path is None):
        fail("give either a TEXT or --input CSV (with --output)")
    catalog_cutoff: float | None
    try:
        if catalog is None:
            departments, catalog_cutoff = configured_catalog()
        else:
            departments = load_catalog(catalog)
            catalog_cutoff = departments.auto_dispatch_threshold
    except (CatalogError, ConfigError) as exc:
        fail(str(exc))
        return
    cutoff = threshold if threshold is not None else catalog_cutoff
    past: list[tuple[str, str]] = []
    codes = label_codes(departments)
    try:
        if history is not None:
            labelled = [(request_text(r, "text"), r["label"].strip()) for r in read_rows(history)]
            unknown = {label for _, label in labelled if label not in codes}
            if unknown:
                typer.echo(
                    f"ignoring history labels not in the catalog: {sorted(unknown)[:10]}", err=True
                )
            past = [(t, codes[label]) for t, label in labelled if label in codes]
    except (OSError, KeyError) as exc:
        fail(f"cannot read the history {history}: {exc!r} (columns: text,label[,subject])")
    router = DepartmentRouter(
        departments,
        threshold=cutoff if cutoff is not None else DEFAULT_AUTO_DISPATCH_THRESHOLD,
        history=past,
    )
    if text is not None:
        decision = router.route(text)
        if not decision.candidates:
            typer.echo("no department matches: the dispatch queue")
        for candidate in decision.candidates:
            department = departments.get(candidate.code)
            name = department.name_zh if department else candidate.code
            typer.echo(f"{candidate.code}\t{name}\t{candidate.score:.3f}")
        typer.echo(f"automatic: {'yes' if decision.automatic else 'no'}")
        return
    assert input_path is not None  # narrowing only: one of TEXT and --input, checked above
    if output is None:
        fail("--input needs --output")
        return
    try:
        rows = [
            decision_row(
                r.get(id_column, str(i)), router.route(request_text(r, text_column)), departments
            )
            for i, r in enumerate(read_rows(input_path), 1)
        ]
    except (OSError, csv.Error) as exc:
        fail(f"cannot read {input_path}: {exc}")
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        if output.suffix in {".jsonl", ".json"}:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(fh)
            columns = ["id", "department", "department_code", "confidence"]
            writer.writerow([*columns, "top3", "automatic"])
            for row in rows:
                top3 = ";".join(f"{c['department']}:{c['score']}" for c in row["top3"])
                cells = ["" if row[c] is None else row[c] for c in columns]
                writer.writerow([*cells, top3, row["automatic"]])
    automatic = sum(1 for row in rows if row["automatic"])
    typer.echo(
        f"routed {len(rows)} requests to {output}; {automatic} would be dispatched automatically"
    )
