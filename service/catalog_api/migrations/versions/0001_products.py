"""Products table and the restricted application role.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Runs as the master user. It creates `catalog_app`, a NOLOGIN role with only SELECT, INSERT,
UPDATE and DELETE on `products`, and grants it to the master user so that runtime sessions
can act as it (startup option `role=catalog_app`, see catalog_api.db). Role names are
cluster-wide, so the role is created only if missing and dropped only by the downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "catalog_app"

# devtools.migration_lint: the SQL of the first revision also creates Alembic's own table.
LINT_ALLOW = {"prefer-text-field": "alembic_version.version_num is Alembic's VARCHAR(32); products uses TEXT"}


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False, server_default="EUR"),
        sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("sku", name="products_sku_key"),
        # The API validates the same rules; the table keeps them even for writes that bypass it.
        sa.CheckConstraint(r"sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'", name="products_sku_format"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="products_name_length"),
        sa.CheckConstraint("char_length(description) <= 2000", name="products_description_length"),
        sa.CheckConstraint("category ~ '^[a-z0-9][a-z0-9-]{0,49}$'", name="products_category_format"),
        sa.CheckConstraint("price >= 0", name="products_price_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="products_currency_format"),
        sa.CheckConstraint("stock >= 0", name="products_stock_not_negative"),
    )
    # Listing by category pages through (category, id); price filters use the price index.
    op.create_index("products_category_id_idx", "products", ["category", "id"])
    op.create_index("products_price_idx", "products", ["price"])

    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN NOINHERIT;
            END IF;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON products TO {APP_ROLE}")
    # Membership lets the master user's sessions act as the role; PostgreSQL 16 needs the SET
    # option, which a plain GRANT gives by default.
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")


def downgrade() -> None:
    op.drop_table("products")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE {APP_ROLE} FROM CURRENT_USER")
    op.execute(f"DROP ROLE IF EXISTS {APP_ROLE}")
