"""The first revision of a failing release: expands (a column, a table), valid on its own."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("weight_g", sa.BigInteger, nullable=True))
    op.create_table("product_notes", sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True))


def downgrade() -> None:
    op.drop_table("product_notes")
    op.drop_column("products", "weight_g")
