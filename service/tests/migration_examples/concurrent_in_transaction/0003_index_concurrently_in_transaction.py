"""Unsafe: CONCURRENTLY inside the upgrade's transaction (PostgreSQL refuses it; use autocommit_block)."""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("products_name_idx", "products", ["name"], postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("products_name_idx", table_name="products", postgresql_concurrently=True, if_exists=True)
