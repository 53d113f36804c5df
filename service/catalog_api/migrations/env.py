"""Alembic environment: always handed a live connection by catalog_api.migrate (no URL, no env reads)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `python -m catalog_api migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
