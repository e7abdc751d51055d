"""The department catalog (承办单位目录): who can receive tickets, and the words that route to them.

The catalog is the ``[[departments]]`` part of the hotline's config file (or a file of its own,
like ``bench/catalogs/taxonomy.toml``)::

    [routing]
    auto_dispatch_threshold = 0.6
    [[departments]]
    code = "construction"
    name_zh = "村镇规划建设服务中心"
    name_en = "Village and Town Planning and Construction Service Centre"
    aliases = ["规划建设中心"]
    keywords = ["道路", "路灯", "自来水"]

Errors are ``CatalogError`` with a one-line message that names the department and the field, so
an operator can fix the file without reading a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODE_PATTERN = re.compile(r"[a-z0-9_-]+")
_DEPARTMENT_KEYS = frozenset({"code", "name_zh", "name_en", "aliases", "keywords", "phones"})


class CatalogError(ValueError):
    """The catalog is unreadable or invalid; the message is one line for the operator."""


@dataclass(frozen=True)
class Department:
    """One 承办单位: a stable code, its names, and the words citizens use for its work."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # Numbers the department gives citizens to call: an answer quoting another is flagged.
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """The departments in the order the file lists them, and an optional routing threshold."""

    departments: tuple[Department, ...]
    auto_dispatch_threshold: float | None = None

    def get(self, code: str) -> Department | None:
        """The department with this code, or None (e.g. removed from the config)."""
        for department in self.departments:
            if department.code == code:
                return department
        return None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(department.code for department in self.departments)


def _text(value: Any, where: str, *, required: bool) -> str:
    if value is None:
        if required:
            raise CatalogError(f"{where} is missing")
        return ""
    if not isinstance(value, str):
        raise CatalogError(f"{where} must be a string, not {type(value).__name__}")
    text = value.strip()
    if required and not text:
        raise CatalogError(f"{where} must not be empty")
    return text


def _words(value: Any, where: str) -> tuple[str, ...]:
    """A list of non-empty strings, stripped, duplicates dropped, order kept."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise CatalogError(f"{where} must be a list of strings, not {type(value).__name__}")
    words: dict[str, None] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise CatalogError(f"{where}[{index}] must be a string, not {type(item).__name__}")
        if item.strip():
            words[item.strip()] = None
    return tuple(words)


def _department(raw: Any, index: int) -> Department:
    where = f"departments[{index}]"
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where} must be a table, not {type(raw).__name__}")
    code = _text(raw.get("code"), f"{where}.code", required=True)
    # From here on the code names the department: easier to find in a long file than an index.
    where = f"department {code!r}"
    if not CODE_PATTERN.fullmatch(code):
        raise CatalogError(
            f"{where}: code must use only lowercase ascii letters, digits, '_' and '-'"
        )
    unknown = sorted(set(raw) - _DEPARTMENT_KEYS)
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r}")
    return Department(
        code=code,
        name_zh=_text(raw.get("name_zh"), f"{where}: name_zh", required=True),
        name_en=_text(raw.get("name_en"), f"{where}: name_en", required=True),
        aliases=_words(raw.get("aliases"), f"{where}: aliases"),
        keywords=_words(raw.get("keywords"), f"{where}: keywords"),
        phones=_words(raw.get("phones"), f"{where}: phones"),
    )


def _threshold(data: Mapping[str, Any]) -> float | None:
    routing = data.get("routing")
    if routing is None:
        return None
    if not isinstance(routing, Mapping):
        raise CatalogError(f"[routing] must be a table, not {type(routing).__name__}")
    # Other [routing] keys belong to the hotline's config (the catalog may live inside it).
    value = routing.get("auto_dispatch_threshold")
    if value is None:
        return None
    # bool is an int subclass; `true` as a threshold is a typo, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogError(
            f"[routing] auto_dispatch_threshold must be a number, not {type(value).__name__}"
        )
    if not 0 <= value <= 1:
        raise CatalogError(
            f"[routing] auto_dispatch_threshold must be between 0 and 1, not {value}"
        )
    return float(value)


def catalog_from_mapping(data: Mapping[str, Any]) -> Catalog:
    """Validate a parsed TOML document with ``[[departments]]`` and an optional ``[routing]``.

    Other top-level keys are left alone: the catalog may live inside the hotline's config file.
    """
    if not isinstance(data, Mapping):
        raise CatalogError(f"the catalog must be a table, not {type(data).__name__}")
    raw = data.get("departments")
    if raw is None:
        raise CatalogError("the catalog has no [[departments]]")
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise CatalogError(f"departments must be a list of tables, not {type(raw).__name__}")
    if not raw:
        raise CatalogError("the catalog has no departments")
    departments: list[Department] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        department = _department(item, index)
        if department.code in seen:
            raise CatalogError(
                f"department {department.code!r} is listed twice (codes must be unique)"
            )
        seen.add(department.code)
        departments.append(department)
    return Catalog(departments=tuple(departments), auto_dispatch_threshold=_threshold(data))


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog TOML file; every failure is a one-line CatalogError."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise CatalogError(f"catalog file {path} does not exist") from None
    except OSError as exc:
        raise CatalogError(f"catalog file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog file {path} is not valid TOML: {exc}") from None
    try:
        return catalog_from_mapping(data)
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc}") from None
