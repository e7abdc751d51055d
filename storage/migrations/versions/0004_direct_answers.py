"""直接答复: answers the bot gave from the knowledge base, waiting for or holding the citizen's word

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_kb_offers_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_kb_offers_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_offers")),
    )
    op.create_index(
        op.f("ix_kb_offers_citizen_id_decided_at"),
        "kb_offers",
        ["citizen_id", "decided_at"],
        unique=False,
    )
    op.create_index(op.f("ix_kb_offers_created_at"), "kb_offers", ["created_at"], unique=False)
    op.create_index(op.f("ix_kb_offers_ticket_id"), "kb_offers", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kb_offers_ticket_id"), table_name="kb_offers")
    op.drop_index(op.f("ix_kb_offers_created_at"), table_name="kb_offers")
    op.drop_index(op.f("ix_kb_offers_citizen_id_decided_at"), table_name="kb_offers")
    op.drop_table("kb_offers")
