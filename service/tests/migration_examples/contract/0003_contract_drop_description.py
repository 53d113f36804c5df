"""Contract step: drops a column no running version reads, allowed for this revision alone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LINT_ALLOW = {"ban-drop-column": "no version since 1.4 reads or writes products.description"}


def upgrade() -> None:
    op.drop_column("products", "description", if_exists=True)


def downgrade() -> None:
    op.add_column("products", sa.Column("description", sa.Text, nullable=True))
