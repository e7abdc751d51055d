"""Statistics: surveys counted per (rating, 已解决) pair, working days by a loose index scan,
quality checks per department — one index each

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One survey index instead of two: each (rating, solved) pair is a seek on it.
    op.drop_index("ix_surveys_department_rating_sent", table_name="surveys")
    op.drop_index("ix_surveys_department_solved_sent", table_name="surveys")
    op.create_index(
        "ix_surveys_department_rating_solved_sent",
        "surveys",
        ["department_code", "rating", "solved", "sent_at"],
        unique=False,
    )
    op.create_index(
        "ix_resolutions_department_days_resolved",
        "resolutions",
        ["department_code", "working_days", "resolved_at"],
        unique=False,
    )
    op.create_index(
        "ix_quality_checks_department_passed_sampled",
        "quality_checks",
        ["department_code", "passed", "sampled_for"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_quality_checks_department_passed_sampled", table_name="quality_checks")
    op.drop_index("ix_resolutions_department_days_resolved", table_name="resolutions")
    op.drop_index("ix_surveys_department_rating_solved_sent", table_name="surveys")
    op.create_index(
        "ix_surveys_department_solved_sent",
        "surveys",
        ["department_code", "solved", "sent_at"],
        unique=False,
    )
    op.create_index(
        "ix_surveys_department_rating_sent",
        "surveys",
        ["department_code", "rating", "sent_at"],
        unique=False,
    )
