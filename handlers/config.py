"""The hotline's policy as data: one TOML file (``HOTLINE_CONFIG``) over built-in defaults.

Departments, SLA rules, targets, working hours and calendar additions are the operators' to
change; the built-in defaults describe 建塘镇's hotline. ``hotline.example.toml`` at the project
root documents every key with its default.
"""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handlers.assessment import BEIJING_WEIGHTS, FIGURE_KEYS
from handlers.catalog import Catalog, CatalogError, catalog_from_mapping
from handlers.model import RequestType
from scheduler.calendar import YearSchedule, parse_year_schedules

DEFAULT_DEPARTMENTS = Path(__file__).with_name("defaults") / "departments.toml"
# Measured with `python -m bench.routing`: precision ≥ 0.95 from here up (about 60% coverage).
DEFAULT_AUTO_DISPATCH_THRESHOLD = 0.8


class ConfigError(ValueError):
    """The config file is unreadable or invalid; the message is one line for the operator."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HotlineInfo(_Section):
    name_zh: str = "建塘镇12345政务服务便民热线"
    name_en: str = "Jiantang Town 12345 Government Service Hotline"
    default_language: str = "zh"


class SlaRules(_Section):
    """Time limits (domain.md: make them configuration, not constants)."""

    working_days: dict[RequestType, int] = Field(
        default_factory=lambda: dict.fromkeys(RequestType, 7)
    )
    urgent_hours: int = Field(default=24, ge=1)
    sign_for_working_days: int = Field(default=1, ge=1)
    # 先行联系 (响应): the unit contacts the citizen within this after dispatch.
    first_contact_working_days: int = Field(default=1, ge=1)
    first_contact_urgent_hours: int = Field(default=2, ge=1)
    return_working_days: int = Field(default=2, ge=1)
    max_extension_working_days: int = Field(default=10, ge=1)
    survey_working_days: int = Field(default=3, ge=1)
    reminder_working_days_before: int = Field(default=2, ge=0)

    @field_validator("working_days")
    @classmethod
    def _every_type(cls, value: dict[RequestType, int]) -> dict[RequestType, int]:
        if any(days < 1 for days in value.values()):
            raise ValueError("working days must be at least 1")
        # A file may name only the types it changes; the rest keep the default of 7.
        return {kind: value.get(kind, 7) for kind in RequestType}

    def days_for(self, request_type: RequestType) -> int:
        return self.working_days[request_type]


class Targets(_Section):
    on_time: float = Field(default=0.95, ge=0, le=1)
    sign_for: float = Field(default=0.95, ge=0, le=1)
    satisfaction: float = Field(default=0.95, ge=0, le=1)
    survey_response: float = Field(default=0.95, ge=0, le=1)
    quality: float = Field(default=0.95, ge=0, le=1)
    basic_satisfied_weight: float = Field(default=1.0, ge=0, le=1)
    response: float = Field(default=0.95, ge=0, le=1)  # 响应率
    resolution: float = Field(default=0.95, ge=0, le=1)  # 解决率


class SurveyConfig(_Section):
    """回访: whether 未解决 re-opens the ticket by itself (else only 不满意 does), and how many
    times one ticket may be re-opened; past that, the office takes it over."""

    unsolved_reopens: bool = True
    max_reopens: int = Field(default=2, ge=0)


class AssessmentConfig(_Section):
    """考评: the composite score's weights (figure → weight), the minimum number of dispatches
    in a period to be ranked, and the size of the 红榜 and 黑榜."""

    weights: dict[str, float] = Field(default_factory=lambda: dict(BEIJING_WEIGHTS))
    min_tickets: int = Field(default=5, ge=0)
    board_size: int = Field(default=5, ge=1)

    @field_validator("weights")
    @classmethod
    def _known_figures(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(FIGURE_KEYS))
        if unknown:
            raise ValueError(
                f"unknown figure(s) {', '.join(unknown)}; the figures are {', '.join(FIGURE_KEYS)}"
            )
        if any(weight < 0 for weight in value.values()):
            raise ValueError("a weight cannot be negative")
        if not any(weight > 0 for weight in value.values()):
            raise ValueError("at least one weight must be above 0")
        return value


class WorkingHoursConfig(_Section):
    opens: time = time(8, 30)
    closes: time = time(18, 0)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> WorkingHoursConfig:
        if self.opens >= self.closes:
            raise ValueError("working_hours.opens must be before working_hours.closes")
        return self


class RoutingConfig(_Section):
    auto_dispatch_threshold: float | None = Field(default=None, ge=0, le=1)
    repeat_window_days: int = Field(default=30, ge=0)
    repeat_similarity: float = Field(default=0.5, gt=0, le=1)
    # Past routings the router loads at start-up, newest first (about 1 ms each to index).
    history_size: int = Field(default=5000, ge=0)


class IntakeConfig(_Section):
    max_text_chars: int = Field(default=4096, ge=100)
    # A message waiting for the citizen to choose "more on ticket X" or "new request" becomes a
    # new request after this long.
    hold_minutes: int = Field(default=30, ge=1)


class QualityConfig(_Section):
    sample_share: float = Field(default=0.10, gt=0, le=1)
    min_sample: int = Field(default=1, ge=0)


class SchedulerConfig(_Section):
    sweep_seconds: int = Field(default=60, ge=5)
    digest_time: time = time(8, 30)


class RetentionConfig(_Section):
    """How long what is no longer needed is kept (storage.retention, run by the daily sweep)."""

    # Telegram keeps an undelivered update 24 hours: a week refuses every redelivery.
    processed_update_days: int = Field(default=7, ge=2)
    sent_outbox_days: int = Field(default=90, ge=1)
    reminder_days_after_close: int = Field(default=30, ge=1)
    # Tickets are archives kept by law; their citizen's personal data is anonymised after this.
    personal_data_years: float = Field(default=3, gt=0)


class HotlineConfig(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    hotline: HotlineInfo = HotlineInfo()
    sla: SlaRules = SlaRules()
    targets: Targets = Targets()
    assessment: AssessmentConfig = AssessmentConfig()
    survey: SurveyConfig = SurveyConfig()
    working_hours: WorkingHoursConfig = WorkingHoursConfig()
    # [calendar.2027] holidays = [...] workdays = [...]: a year's State Council notice.
    calendar: dict[int, YearSchedule] = Field(default_factory=dict)
    routing: RoutingConfig = RoutingConfig()
    intake: IntakeConfig = IntakeConfig()
    quality: QualityConfig = QualityConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    retention: RetentionConfig = RetentionConfig()
    departments: Catalog

    @field_validator("calendar", mode="before")
    @classmethod
    def _year_schedules(cls, value: Any) -> dict[int, YearSchedule]:
        if not isinstance(value, dict):
            raise ValueError("[calendar] must be a table of years, like [calendar.2027]")
        return parse_year_schedules(value)

    @property
    def auto_dispatch_threshold(self) -> float:
        """The [routing] threshold, else the catalog's own, else a cautious default."""
        if self.routing.auto_dispatch_threshold is not None:
            return self.routing.auto_dispatch_threshold
        if self.departments.auto_dispatch_threshold is not None:
            return self.departments.auto_dispatch_threshold
        return DEFAULT_AUTO_DISPATCH_THRESHOLD


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"]) or "(top level)"
    return f"{where}: {err['msg']}"


def config_from_mapping(data: dict[str, Any], *, source: str = "config") -> HotlineConfig:
    """Validate a parsed TOML document; departments default to the built-in catalog."""
    data = dict(data)
    raw_departments = data.pop("departments", None)
    try:
        if raw_departments is None:
            departments = catalog_from_mapping(_read_toml(DEFAULT_DEPARTMENTS))
        else:
            # The department catalog may carry its own [routing] threshold, as bench catalogs do.
            routing = data.get("routing", {})
            threshold = (
                routing.get("auto_dispatch_threshold") if isinstance(routing, dict) else None
            )
            departments = catalog_from_mapping(
                {"departments": raw_departments}
                | (
                    {"routing": {"auto_dispatch_threshold": threshold}}
                    if threshold is not None
                    else {}
                )
            )
    except CatalogError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        return HotlineConfig.model_validate({**data, "departments": departments})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_first_error(exc)}") from None


def load_config(path: Path | None) -> HotlineConfig:
    """The operators' config file over the defaults, or the defaults alone when unset."""
    if path is None:
        return config_from_mapping({}, source="built-in defaults")
    return config_from_mapping(_read_toml(path), source=str(path))
