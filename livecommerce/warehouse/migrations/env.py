"""Alembic environment: runs on the connection handed over by ``livecommerce.warehouse``."""

from __future__ import annotations

from alembic import context

from livecommerce.warehouse.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through warehouse.migrate
    raise RuntimeError("run migrations through livecommerce.warehouse.upgrade(engine)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
