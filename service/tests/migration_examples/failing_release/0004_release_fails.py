"""The second revision of the release passes the lint but fails on the data it finds (a product out of stock)."""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # products_stock_not_negative refuses it when a product has stock 0.
    op.execute("UPDATE products SET stock = stock - 1")


def downgrade() -> None:
    op.execute("UPDATE products SET stock = stock + 1")
