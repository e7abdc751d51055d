"""``hotline kb`` as an operator meets it, on SQLite and PostgreSQL: import (idempotent, all or
nothing), export, list, and ask (one text explained, or a file into JSON lines)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from handlers.knowledge_io import parse_entries
from storage.database import Database
from storage.knowledge import history, load_entries

ENTRIES = """id,question,alternatives,answer,department
medical-payment,城乡居民医保什么时候缴费,农村医保每年几月份交|新农合缴费时间,每年9月1日至12月31日集中缴费。,labour
farm-subsidy,耕地地力保护补贴什么时候发,种粮补贴发多少,每年5-7月通过一卡通发放。,agriculture
passport,护照怎么办理,出国要办护照去哪里办,带身份证到县公安局出入境接待大厅申请。,police
"""


@pytest.fixture(autouse=True)
def settings(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The commands use the test database (migrated, departments synced)."""
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.engine.url.render_as_string(False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["kb", *args])
    return result.exit_code, result.output


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def listed() -> list[dict[str, str | None]]:
    code, out = run("list", "--format", "json")
    assert code == 0, out
    rows: list[dict[str, str | None]] = json.loads(out)
    return rows


def test_importing_the_same_file_twice_changes_nothing(tmp_path: Path, database: Database) -> None:
    path = write(tmp_path / "kb.csv", ENTRIES)
    code, out = run("import", str(path))
    assert code == 0, out
    assert "3 new" in out
    code, out = run("import", str(path))
    assert code == 0, out
    assert "0 new, 0 updated, 3 unchanged" in out
    assert listed() == [
        {
            "id": "farm-subsidy",
            "question": "耕地地力保护补贴什么时候发",
            "department": "agriculture",
        },
        {"id": "medical-payment", "question": "城乡居民医保什么时候缴费", "department": "labour"},
        {"id": "passport", "question": "护照怎么办理", "department": "police"},
    ]
    with database.read() as session:
        assert [v.version for v in history(session, "passport")] == [1]


def test_a_changed_row_updates_its_entry(tmp_path: Path, database: Database) -> None:
    run("import", str(write(tmp_path / "a.csv", ENTRIES)))
    changed = ENTRIES.replace("带身份证到县公安局", "带身份证和照片到县公安局")
    code, out = run("import", str(write(tmp_path / "b.csv", changed)))
    assert code == 0, out
    assert "0 new, 1 updated, 2 unchanged" in out
    with database.read() as session:
        versions = history(session, "passport")
        entries = {e.id: e for e in load_entries(session)}
    assert entries["passport"].answer.startswith("带身份证和照片")
    assert [v.change for v in versions] == ["created", "updated"]
    assert versions[1].changed_via == "hotline kb import b.csv"


@pytest.mark.parametrize(
    ("bad_row", "words"),
    [
        ("x1,,答案,,labour", ["line 4", "question is empty"]),
        ("x2,问题,,,labour", ["line 4", "answer is empty"]),
        ("x3,问题,,答案,nowhere", ["line 4", "unknown department 'nowhere'"]),
        ("passport,又一个问题,,答案,police", ["line 4", "already on line 3"]),
    ],
)
def test_a_malformed_row_names_its_line_and_nothing_is_imported(
    tmp_path: Path, bad_row: str, words: list[str]
) -> None:
    header, medical, _subsidy, passport = ENTRIES.splitlines()
    # Two good rows (lines 2 and 3), then the bad one on line 4.
    text = "\n".join([header, medical, passport, bad_row]) + "\n"
    code, out = run("import", str(write(tmp_path / "bad.csv", text)))
    assert code == 2
    errors = [line for line in out.splitlines() if line.startswith("hotline: error:")]
    assert len(errors) == 1, out
    for word in [*words, "nothing imported"]:
        assert word in errors[0]
    assert "Traceback" not in out
    assert listed() == []


def test_a_file_without_the_required_columns_or_missing_is_refused(tmp_path: Path) -> None:
    code, out = run("import", str(write(tmp_path / "q.csv", "id,question\na,问题\n")))
    assert code == 2
    assert "line 1" in out
    assert "answer" in out
    code, out = run("import", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "does not exist" in out


def test_export_writes_what_import_reads(tmp_path: Path) -> None:
    source = write(tmp_path / "kb.csv", ENTRIES)
    run("import", str(source))
    out_path = tmp_path / "out.csv"
    code, out = run("export", str(out_path))
    assert code == 0, out
    exported = parse_entries(out_path.read_text(encoding="utf-8"))
    assert sorted(exported, key=lambda e: e.id) == sorted(
        parse_entries(ENTRIES), key=lambda e: e.id
    )
    code, out = run("import", str(out_path))
    assert "3 unchanged" in out


def test_ask_explains_a_direct_answer_and_a_request_to_act(tmp_path: Path) -> None:
    run("import", str(write(tmp_path / "kb.csv", ENTRIES)))
    code, out = run("ask", "请问农村医保每年几月份交？")
    assert code == 0, out
    assert "answer directly" in out
    assert "medical-payment" in out
    assert "«农村医保每年几月份交»" in out  # the matched phrasing
    assert re.search(r"^1\. medical-payment  score [01]\.\d{3}  matched", out, re.MULTILINE)
    assert re.search(r"why: 直接答复: the best entry scores [01]\.\d\d", out)
    assert "每年9月1日至12月31日集中缴费" in out
    code, out = run("ask", "我的耕地地力保护补贴一直没到账，请帮忙查")
    assert code == 0, out
    assert "no direct answer" in out
    assert "request to act" in out
    assert "farm-subsidy" in out
    code, out = run("ask", "--format", "json", "护照怎么办理？")
    data = json.loads(out)
    assert data["entry"] == "passport"
    assert data["answer_directly"] is True
    assert data["matched"] == "护照怎么办理"


def test_ask_a_file_writes_one_json_object_per_row(tmp_path: Path) -> None:
    expiring = ENTRIES.replace(
        "id,question,alternatives,answer,department",
        "id,question,alternatives,answer,department,valid_until",
    ).replace("labour\n", "labour,2026-12-31\n")
    expiring = "\n".join(
        line if line.endswith("2026-12-31") or line.startswith("id,") else line + ","
        for line in expiring.splitlines()
    )
    run("import", str(write(tmp_path / "kb.csv", expiring + "\n")))
    questions = write(
        tmp_path / "q.csv",
        "key,message\n"
        "a,护照怎么办理？\n"
        "b,我的种粮补贴为什么还没发？\n"
        "c,城乡居民医保什么时候缴费？\n",
    )
    output = tmp_path / "out.jsonl"
    args = ["--input", str(questions), "--text-column", "message", "--id-column", "key"]
    code, out = run("ask", *args, "--output", str(output), "--at", "2026-12-01T10:00")
    assert code == 0, out
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["a", "b", "c"]
    assert set(rows[0]) == {"id", "entry", "score", "answer_directly", "top3"}
    assert rows[0]["entry"] == "passport"
    assert rows[0]["answer_directly"] is True
    assert rows[0]["top3"][0] == {"entry": "passport", "score": rows[0]["score"]}
    assert rows[1]["entry"] == "farm-subsidy"
    assert rows[1]["answer_directly"] is False
    assert rows[2]["entry"] == "medical-payment"
    assert rows[2]["answer_directly"] is True
    # After its last day the medical entry is never used, not even as a candidate.
    code, out = run("ask", *args, "--output", str(output), "--at", "2027-01-01T10:00")
    assert code == 0, out
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert rows[2]["answer_directly"] is False
    assert "medical-payment" not in [m["entry"] for m in rows[2]["top3"]]


def test_ask_needs_a_text_or_an_input(tmp_path: Path) -> None:
    code, out = run("ask")
    assert code == 2
    assert "give either a TEXT or --input" in out
    questions = write(tmp_path / "q.csv", "id,body\n1,护照\n")
    code, out = run("ask", "--input", str(questions), "--output", str(tmp_path / "o.jsonl"))
    assert code == 2
    assert "no column 'text'" in out


def test_kb_stats_counts_updates_per_department_and_entries_never_used(tmp_path: Path) -> None:
    code, out = run("import", str(write(tmp_path / "kb.csv", ENTRIES)))
    assert code == 0, out
    code, out = run("stats", "--period", "today", "--format", "json")
    assert code == 0, out
    figures = json.loads(out)
    assert figures["contacts"] == 0
    assert figures["direct_answer_rate"] is None  # no contact: no rate, not 0%
    assert sorted(figures["never_used"]) == ["farm-subsidy", "medical-payment", "passport"]
    assert figures["updates"] == {"agriculture": 1, "labour": 1, "police": 1}
    code, out = run("stats", "--period", "nonsense")
    assert code == 2
    assert "nonsense" in out
