"""Records each time it runs (in a table the test creates), slowly, so concurrent starts overlap."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO migration_runs (revision) VALUES ('0003')")
    op.execute("SELECT pg_sleep(1)")
    op.add_column("products", sa.Column("weight_g", sa.BigInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("products", "weight_g")
