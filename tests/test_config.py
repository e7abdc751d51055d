"""The TOML config: defaults, the documented example, and clear errors."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from handlers.config import ConfigError, config_from_mapping, load_config
from handlers.model import RequestType

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_jiantangs_hotline() -> None:
    config = load_config(None)
    assert config.hotline.name_zh.startswith("建塘镇")
    assert all(config.sla.days_for(kind) == 7 for kind in RequestType)
    assert config.targets.on_time == 0.95
    assert config.working_hours.opens == time(8, 30)
    assert len(config.departments.departments) >= 3


def test_the_example_file_documents_the_defaults() -> None:
    """hotline.example.toml spells out every default: loading it changes nothing."""
    assert load_config(ROOT / "hotline.example.toml") == load_config(None)


def test_a_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(
        "[sla]\nworking_days = { complaint = 5 }\nurgent_hours = 12\n"
        '[calendar.2027]\nholidays = ["2027-10-01..2027-10-07"]\nworkdays = [2027-10-09]\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.sla.days_for(RequestType.COMPLAINT) == 5
    assert config.sla.days_for(RequestType.HELP) == 7
    assert config.sla.urgent_hours == 12
    assert date(2027, 10, 3) in config.calendar[2027].holidays
    assert config.calendar[2027].workdays == frozenset({date(2027, 10, 9)})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sla": {"urgent_hours": 0}}, "sla.urgent_hours"),
        ({"sla": {"working_days": {"gossip": 3}}}, "sla.working_days"),
        ({"targets": {"on_time": 95}}, "targets.on_time"),
        ({"working_hours": {"opens": "18:00:00", "closes": "08:30:00"}}, "opens"),
        ({"slas": {}}, "slas"),
        ({"calendar": {"2027": {"holiday": ["2027-10-01"]}}}, "calendar"),
        ({"departments": [{"code": "x"}]}, "name_zh"),
    ],
)
def test_mistakes_are_named(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(data)
