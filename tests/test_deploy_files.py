"""The Dockerfile, compose.yaml and systemd units (no Docker here): each parses, runs commands
the ``hotline`` CLI has, and sets only settings the bot reads."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.test_cli import hotline

ROOT = Path(__file__).resolve().parents[1]
UNITS = [ROOT / "deploy" / "hotline.service", ROOT / "deploy" / "hotline@.service"]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in joined.splitlines()
        if line.strip()
        for parts in [line.strip().split(None, 1)]
    ]


def assert_hotline_command(argv: list[str]) -> None:
    """``hotline SUB …`` names a subcommand that exists (its --help answers)."""
    assert argv[0].endswith("hotline"), argv
    subcommands = [a for a in argv[1:] if not a.startswith("-")][:2]
    result = hotline(*subcommands[:1], "--help")
    assert result.returncode == 0, f"{argv}: {result.stderr}"
    if len(subcommands) == 2 and "Commands" in result.stdout:
        assert hotline(*subcommands, "--help").returncode == 0, argv


def settings_named(text: str) -> set[str]:
    return set(re.findall(r"\bHOTLINE_[A-Z_]+\b", text))


KNOWN_SETTINGS = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}


def test_the_image_is_slim_not_root_healthchecked_and_runs_the_bot() -> None:
    instructions = dockerfile()
    kinds = [kind for kind, _ in instructions]
    assert kinds[0] == "FROM"
    assert re.fullmatch(r"python:3\.1[1-9]-slim", instructions[0][1])
    [user] = [args for kind, args in instructions if kind == "USER"]
    assert user not in ("root", "0")
    assert kinds.index("USER") < kinds.index("CMD")
    [health] = [args for kind, args in instructions if kind == "HEALTHCHECK"]
    assert "/healthz" in health
    [cmd] = [args for kind, args in instructions if kind == "CMD"]
    assert_hotline_command(json.loads(cmd))
    installs = " ".join(args for kind, args in instructions if kind == "RUN")
    assert "pip install ." in installs  # the package and its dependencies, the CJK font too
    env = " ".join(args for kind, args in instructions if kind == "ENV")
    assert settings_named(env) <= KNOWN_SETTINGS


def compose_services() -> dict[str, str]:
    """compose.yaml's services, each as its block of text (no YAML parser is installed)."""
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks = re.split(r"^  (?=[a-z])", body, flags=re.MULTILINE)
    return {block.split(":", 1)[0]: block for block in blocks if block.strip()}


def test_compose_runs_the_migrations_before_the_bot_on_postgresql_16() -> None:
    services = compose_services()
    assert set(services) == {"db", "migrate", "bot"}
    assert "image: postgres:16" in services["db"]
    commands = {
        name: json.loads(match.group(1))
        for name, block in services.items()
        if (match := re.search(r"^    command: (\[.*\])$", block, flags=re.MULTILINE))
    }
    assert commands["migrate"] == ["hotline", "db", "upgrade"]
    for argv in commands.values():
        assert_hotline_command(argv)
    assert re.search(
        r"depends_on:\s+migrate:\s+condition: service_completed_successfully", services["bot"]
    )
    assert re.search(r"depends_on:\s+db:\s+condition: service_healthy", services["migrate"])
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert settings_named(text) <= KNOWN_SETTINGS


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_the_systemd_units_run_existing_commands(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8"))
    service = parser["Service"]
    assert service["User"] not in ("root", "0")
    for key in ("ExecStart", "ExecStartPre"):
        if key in service:
            assert_hotline_command(shlex.split(service[key]))
    assert settings_named(unit.read_text(encoding="utf-8")) <= KNOWN_SETTINGS
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_guide_names_only_commands_and_settings_that_exist() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert settings_named(guide) <= KNOWN_SETTINGS
    for line in re.findall(r"^(hotline [a-z].*?)(?:\s+#.*)?$", guide, flags=re.MULTILINE):
        assert_hotline_command(shlex.split(line))
