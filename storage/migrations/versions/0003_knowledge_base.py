"""知识库: knowledge base entries and every version of them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source_ticket_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_kb_entries_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["source_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_kb_entries_source_ticket_id_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_kb_entries_key")),
    )
    op.create_index(
        op.f("ix_kb_entries_department_code"), "kb_entries", ["department_code"], unique=False
    )
    op.create_table(
        "kb_entry_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_via", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["staff.id"], name=op.f("fk_kb_entry_versions_changed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["kb_entries.id"],
            name=op.f("fk_kb_entry_versions_entry_id_kb_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entry_versions")),
        sa.UniqueConstraint(
            "entry_id", "version", name=op.f("uq_kb_entry_versions_entry_id_version")
        ),
    )
    op.create_index(
        "ix_kb_entry_versions_department_changed",
        "kb_entry_versions",
        ["department_code", "changed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_kb_entry_versions_department_changed", table_name="kb_entry_versions")
    op.drop_table("kb_entry_versions")
    op.drop_index(op.f("ix_kb_entries_department_code"), table_name="kb_entries")
    op.drop_table("kb_entries")
