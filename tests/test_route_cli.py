"""``hotline route``: one text, or a CSV of them, with history labelled by name or code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bot.route_cli import route

CATALOG = """
[routing]
auto_dispatch_threshold = 0.8

[[departments]]
code = "roads"
name_zh = "城乡建设"
name_en = "Construction"
keywords = ["路灯", "道路", "桥梁"]

[[departments]]
code = "schools"
name_zh = "教育文体"
name_en = "Education"
keywords = ["学校", "学生", "老师"]
"""


def app() -> typer.Typer:
    application = typer.Typer()
    application.command()(route)
    return application


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_one_text(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    result = CliRunner().invoke(app(), ["--catalog", str(catalog), "村口的路灯坏了，道路很黑"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0].split("\t")
    assert first[:2] == ["roads", "城乡建设"]


def test_a_file_with_history_labelled_by_name(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    history = write_csv(
        tmp_path / "history.csv",
        ["subject", "text", "label"],
        [["无人机", "小区上空无人机嗡嗡地飞", "教育文体"], ["", "桥梁栏杆松动", "城乡建设"]],
    )
    requests = write_csv(
        tmp_path / "in.csv",
        ["id", "subject", "text"],
        [["a1", "无人机", "晚上小区上空无人机一直嗡嗡地飞"], ["a2", "", "学校门口的道路坑洼"]],
    )
    out = tmp_path / "out.jsonl"
    args = ["--catalog", str(catalog), "--history", str(history), "--input", str(requests)]
    result = CliRunner().invoke(app(), [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2"]
    # Learnt from the history (labelled with the department's name), not from any keyword.
    assert (rows[0]["department"], rows[0]["department_code"]) == ("教育文体", "schools")
    assert rows[0]["automatic"] is True
    assert 1 <= len(rows[1]["top3"]) <= 3
    assert set(rows[1]["top3"][0]) == {"department", "code", "score"}

    as_csv = tmp_path / "out.csv"
    result = CliRunner().invoke(app(), [*args, "--output", str(as_csv)])
    assert result.exit_code == 0, result.output
    with as_csv.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == [
        "id",
        "department",
        "department_code",
        "confidence",
        "top3",
        "automatic",
    ]
    assert table[0]["department"] == "教育文体"


def test_mistakes_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app(), ["--catalog", str(tmp_path / "missing.toml"), "路灯"])
    assert result.exit_code == 2
    assert "does not exist" in result.output or "cannot" in result.output
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    result = CliRunner().invoke(app(), ["--catalog", str(catalog)])
    assert result.exit_code == 2
    assert "either a TEXT or --input" in result.output
