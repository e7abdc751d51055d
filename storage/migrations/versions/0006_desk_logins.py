"""The web desk's one-time sign-in links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_logins",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_desk_logins")),
    )
    op.create_index(op.f("ix_desk_logins_expires_at"), "desk_logins", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_logins_expires_at"), table_name="desk_logins")
    op.drop_table("desk_logins")
