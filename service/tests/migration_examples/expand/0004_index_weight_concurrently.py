"""Expand, safe: an index built CONCURRENTLY, outside the upgrade's transaction."""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The block commits the revisions before this one; a failed build leaves an INVALID index,
    # which the DROP removes when the revision runs again.
    with op.get_context().autocommit_block():
        op.drop_index("products_weight_idx", table_name="products", postgresql_concurrently=True, if_exists=True)
        op.create_index(
            "products_weight_idx", "products", ["weight_g"], postgresql_concurrently=True, if_not_exists=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("products_weight_idx", table_name="products", postgresql_concurrently=True, if_exists=True)
