"""Alembic environment: online, always handed a live connection by catalog_api.migrate (no URL, no
env reads); offline (`--sql`), the PostgreSQL SQL that devtools.migration_lint hands to squawk.

One transaction for the whole `upgrade head` of a release (transaction_per_migration off): the
database is either at the previous release's head or at the new one, never in between, so a failed
release leaves the version still serving exactly the schema it started with. The exception is a
revision that opens `op.get_context().autocommit_block()` (CREATE INDEX CONCURRENTLY cannot run in
a transaction): the revisions before it are committed when the block starts. See README.md,
"Migrations: expand, then contract".
"""

from __future__ import annotations

from alembic import context

# A DDL statement waiting for a lock queues every later query on that table behind itself, so a
# migration stuck behind a long transaction of the version still serving would stall its traffic:
# after 2 s it gives up instead (the task retries, then exits non-zero). A statement that runs for
# more than 60 s does not fit a task's start (contract: listening within 90 s).
LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = "60s"

if context.is_offline_mode():
    context.configure(dialect_name="postgresql", literal_binds=True, transaction_per_migration=False)
else:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `python -m catalog_api migrate`, which supplies the connection")
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)

with context.begin_transaction():
    # Session settings, not SET LOCAL: they must outlive the commit an autocommit_block makes.
    context.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    context.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    context.run_migrations()
