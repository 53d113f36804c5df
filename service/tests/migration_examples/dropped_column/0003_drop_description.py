"""Unsafe: a dropped column (the running version still reads and writes it)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("products", "description")


def downgrade() -> None:
    op.add_column("products", sa.Column("description", sa.Text, nullable=False, server_default=""))
