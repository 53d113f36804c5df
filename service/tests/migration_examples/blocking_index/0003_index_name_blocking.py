"""Unsafe: an index built without CONCURRENTLY (blocks every write to products while it builds)."""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("products_name_idx", "products", ["name"])


def downgrade() -> None:
    op.drop_index("products_name_idx", table_name="products")
