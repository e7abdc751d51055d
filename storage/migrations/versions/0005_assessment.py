"""考评: first contact (先行联系) on dispatches, 已解决/未解决 on surveys, their indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("contact_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("contacted_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_assignments_contacted_by_staff"), "staff", ["contacted_by"], ["id"]
        )
        # The statistics count dispatches, on-time sign-fors and on-time first contacts from
        # this one index, without reading the table.
        batch.drop_index("ix_assignments_department_dispatched_sign")
        batch.create_index(
            "ix_assignments_department_dispatched_sign_contact",
            [
                "department_code",
                "dispatched_at",
                "signed_at",
                "sign_due_at",
                "contacted_at",
                "contact_due_at",
            ],
            unique=False,
        )
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("solved", sa.Boolean(), nullable=True))
        batch.create_index(
            "ix_surveys_department_solved_sent",
            ["department_code", "solved", "sent_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.drop_index("ix_surveys_department_solved_sent")
        batch.drop_column("solved")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_index("ix_assignments_department_dispatched_sign_contact")
        batch.create_index(
            "ix_assignments_department_dispatched_sign",
            ["department_code", "dispatched_at", "signed_at", "sign_due_at"],
            unique=False,
        )
        batch.drop_constraint(op.f("fk_assignments_contacted_by_staff"), type_="foreignkey")
        batch.drop_column("contacted_by")
        batch.drop_column("contacted_at")
        batch.drop_column("contact_due_at")
