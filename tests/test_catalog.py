"""The department catalog: loading, validation messages, and the bundled catalogs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from handlers.catalog import Catalog, CatalogError, Department, catalog_from_mapping, load_catalog

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = ROOT / "handlers" / "defaults" / "departments.toml"
TAXONOMY_CATALOG = ROOT / "bench" / "catalogs" / "taxonomy.toml"
TAXONOMY_CSV = Path("/work/shared/data/routing/taxonomy.csv")


def department(code: str = "roads", **fields: Any) -> dict[str, Any]:
    return {"code": code, "name_zh": "道路办", "name_en": "Roads Office", **fields}


def error_of(data: Any) -> str:
    with pytest.raises(CatalogError) as caught:
        catalog_from_mapping(data)
    message = str(caught.value)
    assert "\n" not in message  # one line, for an operator's terminal or log
    return message


def test_minimal_catalog() -> None:
    catalog = catalog_from_mapping(
        {
            "routing": {"auto_dispatch_threshold": 0.7, "repeat_window_days": 30},
            "departments": [
                department(aliases=["路政", " 路政 ", ""], keywords=["路灯", "修路"]),
                department("water", name_zh="供水站", name_en="Water"),
            ],
        }
    )
    assert catalog.auto_dispatch_threshold == 0.7
    assert catalog.codes == ("roads", "water")
    roads = catalog.get("roads")
    assert roads == Department("roads", "道路办", "Roads Office", ("路政",), ("路灯", "修路"))
    assert catalog.get("gone") is None


def test_threshold_is_optional() -> None:
    assert catalog_from_mapping({"departments": [department()]}).auto_dispatch_threshold is None


def test_duplicate_code_names_the_department() -> None:
    message = error_of({"departments": [department(), department()]})
    assert "'roads'" in message
    assert "twice" in message


@pytest.mark.parametrize("code", ["Roads", "道路", "roads office", ""])
def test_bad_code(code: str) -> None:
    message = error_of({"departments": [department(code)]})
    assert "code" in message


def test_missing_name_names_department_and_field() -> None:
    raw = department()
    del raw["name_zh"]
    message = error_of({"departments": [raw]})
    assert "'roads'" in message
    assert "name_zh" in message
    assert "missing" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "no [[departments]]"),
        ({"departments": []}, "no departments"),
        ({"departments": "roads"}, "list of tables"),
        ({"departments": ["roads"]}, "departments[0] must be a table"),
        ({"departments": [department(keywords="路灯")]}, "keywords must be a list"),
        ({"departments": [department(keywords=["路灯", 3])]}, "keywords[1] must be a string"),
        ({"departments": [department(name_en=5)]}, "name_en must be a string"),
        ({"departments": [department(name_en="  ")]}, "name_en must not be empty"),
        ({"departments": [department(phone="123")]}, "unknown field 'phone'"),
        ({"departments": [{"name_zh": "x", "name_en": "y"}]}, "departments[0].code is missing"),
        (
            {"routing": {"auto_dispatch_threshold": 1.5}, "departments": [department()]},
            "between 0 and 1",
        ),
        (
            {"routing": {"auto_dispatch_threshold": True}, "departments": [department()]},
            "must be a number",
        ),
        ({"routing": 0.6, "departments": [department()]}, "[routing] must be a table"),
    ],
)
def test_invalid_catalogs(data: Any, expected: str) -> None:
    assert expected in error_of(data)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "departments.toml"
    path.write_text('[[departments]]\ncode = "roads\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid TOML") as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nowhere.toml")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "departments.toml"
    path.write_text(
        '[[departments]]\ncode = "a"\nname_zh = "甲"\nname_en = "A"\n'
        '[[departments]]\ncode = "a"\nname_zh = "乙"\nname_en = "B"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"departments\.toml: department 'a' is listed twice"):
        load_catalog(path)


def test_default_catalog_loads() -> None:
    catalog = load_catalog(DEFAULT_CATALOG)
    assert isinstance(catalog, Catalog)
    assert catalog.auto_dispatch_threshold is not None
    assert {"construction", "social_affairs", "police", "labour", "health"} <= set(catalog.codes)
    for item in catalog.departments:
        assert item.aliases, item.code
        chinese = [word for word in item.keywords if not word.isascii()]
        english = [word for word in item.keywords if word.isascii()]
        assert 15 <= len(chinese) <= 45, (item.code, len(chinese))
        # Requests in English are routed too (the hotline speaks both).
        assert len(english) >= 10, item.code
        assert any(alias.isascii() for alias in item.aliases), item.code


def test_taxonomy_catalog_loads() -> None:
    catalog = load_catalog(TAXONOMY_CATALOG)
    assert len(catalog.departments) == 15
    assert catalog.auto_dispatch_threshold is not None
    assert catalog.get("labour-social-security").name_zh == "劳动和社会保障"  # type: ignore[union-attr]


@pytest.mark.skipif(
    not TAXONOMY_CSV.exists() or importlib.util.find_spec("jieba") is None,
    reason="needs /work/shared/data and jieba",
)
def test_taxonomy_catalog_is_what_the_bench_generates() -> None:
    from bench.routing import DEFAULT_THRESHOLD, catalog_toml, read_csv, taxonomy_catalog

    mapping = taxonomy_catalog(read_csv(TAXONOMY_CSV), DEFAULT_THRESHOLD)
    expected = catalog_toml(mapping, "routing/taxonomy.csv")
    assert TAXONOMY_CATALOG.read_text(encoding="utf-8") == expected
