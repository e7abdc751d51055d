"""Alembic environment: migrations run on the engine that ``storage.database`` built."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base
from storage.types import StrEnumType, UtcDateTime

config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url", ""), hide_parameters=True
)


def render_item(kind: str, obj: Any, _context: Any) -> str | Literal[False]:
    """Write the project's column types as plain SQL types, so migrations never import them."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, StrEnumType):
        return f"sa.String(length={getattr(obj.impl_instance, 'length', None)})"
    return False


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place: batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
