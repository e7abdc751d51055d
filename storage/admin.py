"""What operators change from the command line: staff, chat bindings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers.model import Language, Role, StaffMember
from storage.models import OFFICE_CHAT, DepartmentRow, SettingRow, StaffRow
from storage.repository import SqlStore


class AdminError(ValueError):
    """An operator's request cannot be done; the message is one line."""


def add_staff(
    session: Session,
    telegram_id: int,
    *,
    role: Role,
    department: str | None,
    name: str | None,
    now: datetime,
) -> StaffMember:
    if role is Role.STAFF and department is None:
        raise AdminError("staff need a department (--department CODE); supervisors do not")
    if department is not None and session.get(DepartmentRow, department) is None:
        raise AdminError(f"no department {department!r} (see `hotline department list`)")
    return SqlStore(session).add_staff(
        telegram_id,
        role=role,
        department_code=department,
        name=name,
        language=Language.ZH,
        now=now,
    )


def list_staff(session: Session) -> list[StaffRow]:
    return list(
        session.scalars(
            select(StaffRow)
            .where(StaffRow.active.is_(True))
            .order_by(StaffRow.department_code, StaffRow.id)
        )
    )


def remove_staff(session: Session, telegram_id: int) -> None:
    """Staff leave; their row stays (the event log names them) but they can no longer act."""
    result = session.execute(
        update(StaffRow)
        .where(StaffRow.telegram_user_id == telegram_id, StaffRow.active.is_(True))
        .values(active=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise AdminError(f"no active staff member with Telegram id {telegram_id}")


def list_departments(session: Session) -> list[DepartmentRow]:
    return list(session.scalars(select(DepartmentRow).order_by(DepartmentRow.code)))


def set_department_chat(session: Session, code: str, chat_id: int) -> None:
    department = session.get(DepartmentRow, code)
    if department is None:
        raise AdminError(f"no department {code!r} (see `hotline department list`)")
    department.chat_id = chat_id


def set_office_chat(session: Session, chat_id: int) -> None:
    setting = session.get(SettingRow, OFFICE_CHAT)
    if setting is None:
        session.add(SettingRow(key=OFFICE_CHAT, value=str(chat_id)))
    else:
        setting.value = str(chat_id)


def office_chat(session: Session) -> int | None:
    return SqlStore(session).office_chat()
