"""The hotline's fixed surroundings for one process: policy, calendar, router, button keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.buttons import ButtonSigner
from handlers.config import HotlineConfig
from handlers.model import Language, RequestType
from handlers.routing import DepartmentRouter
from scheduler.calendar import WorkingCalendar
from scheduler.deadlines import Deadline, due_after_hours, due_after_working_days


@dataclass
class Hotline:
    config: HotlineConfig
    calendar: WorkingCalendar
    buttons: ButtonSigner
    router: DepartmentRouter
    bot_username: str | None = None  # for invite links; known once the bot has called getMe
    # Where the web desk is served (HOTLINE_PUBLIC_URL), set once the desk is mounted: /desk
    # answers with a sign-in link only then.
    desk_url: str | None = None

    def deadline_for(
        self, request_type: RequestType, received: datetime, *, urgent: bool = False
    ) -> Deadline:
        """The 办结时限 of a ticket received at ``received`` (domain.md's counting rules)."""
        if urgent:
            return due_after_hours(received, self.config.sla.urgent_hours)
        return due_after_working_days(
            received, self.config.sla.days_for(request_type), self.calendar
        )

    def department_name(self, code: str | None, lang: Language) -> str | None:
        if code is None:
            return None
        department = self.config.departments.get(code)
        if department is None:
            return code
        return department.name_en if lang is Language.EN else department.name_zh

    @property
    def name(self) -> str:
        return self.config.hotline.name_zh
