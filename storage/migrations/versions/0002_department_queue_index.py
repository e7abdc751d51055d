"""partial index for a department's queue of open tickets in deadline order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept here, not imported from storage.models: a migration stays what it was when written.
DEPARTMENT_QUEUE = "status IN ('dispatched', 'in_progress')"


def upgrade() -> None:
    op.create_index(
        "ix_tickets_department_queue",
        "tickets",
        ["department_code", "deadline_at", "id"],
        unique=False,
        postgresql_where=sa.text(DEPARTMENT_QUEUE),
        sqlite_where=sa.text(DEPARTMENT_QUEUE),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_department_queue", table_name="tickets")
