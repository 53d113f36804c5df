"""Fails on existing data after 0004's autocommit block: 0003 is committed, 0004 has built its index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("origin", sa.Text, nullable=True))
    # products_stock_not_negative refuses it when a product has stock 0.
    op.execute("UPDATE products SET stock = stock - 1")


def downgrade() -> None:
    op.drop_column("products", "origin")
