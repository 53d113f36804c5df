"""Trigram index on products.name, so that `GET /products?q=` is an index search, not a table scan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

`name ILIKE '%text%'` has no leading anchor, so a B-tree cannot serve it; a GIN index over
pg_trgm's trigrams can, for any search of at least 3 characters (a shorter one yields no
trigram, which is why the API refuses it). pg_trgm is a trusted extension (PostgreSQL 13 and
later): the database owner, here the master user, may create it without being a superuser.

Expand only: an extension and an index, built CONCURRENTLY so that the version still serving
keeps writing to `products` meanwhile. The index is the last statement of its release, as
README.md ("Migrations: expand, then contract") asks.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "products_name_trgm_idx"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # The block commits what precedes it (the extension); a failed build leaves an INVALID index,
    # which the DROP removes when the revision runs again.
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name="products", postgresql_concurrently=True, if_exists=True)
        op.create_index(
            INDEX,
            "products",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name="products", postgresql_concurrently=True, if_exists=True)
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
