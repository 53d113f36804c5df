"""Unsafe: a NOT NULL column without a default (the running version's INSERTs fail)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("weight_g", sa.Integer, nullable=False))


def downgrade() -> None:
    op.drop_column("products", "weight_g")
