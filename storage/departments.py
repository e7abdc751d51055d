"""Departments in the database follow the config catalog; chats are bound by operators."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers.catalog import Catalog
from storage.models import DepartmentRow


def sync_departments(session: Session, catalog: Catalog) -> None:
    """Add and rename departments from the catalog; retire those it no longer lists.

    Retired departments keep their rows (old tickets refer to them) and their chat binding.
    """
    existing = {row.code: row for row in session.scalars(select(DepartmentRow))}
    for department in catalog.departments:
        row = existing.get(department.code)
        if row is None:
            session.add(
                DepartmentRow(
                    code=department.code,
                    name_zh=department.name_zh,
                    name_en=department.name_en,
                    active=True,
                )
            )
        else:
            row.name_zh, row.name_en, row.active = department.name_zh, department.name_en, True
    listed = {department.code for department in catalog.departments}
    retired = set(existing) - listed
    if retired:
        session.execute(
            update(DepartmentRow).where(DepartmentRow.code.in_(retired)).values(active=False)
        )
