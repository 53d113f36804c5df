"""Unsafe: a renamed column (the running version still uses the old name)."""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("products", "name", new_column_name="title")


def downgrade() -> None:
    op.alter_column("products", "title", new_column_name="name")
