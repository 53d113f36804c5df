"""Sample products for `make serve` and `make bench`, inserted through the restricted role."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from catalog_api.db import session_options

SAMPLES = [
    ("TSHIRT-RED-M", "Red T-shirt, size M", "Organic cotton, regular fit.", "apparel", "19.99", 120),
    ("TSHIRT-BLU-L", "Blue T-shirt, size L", "Organic cotton, regular fit.", "apparel", "19.99", 80),
    ("HOODIE-GRY-M", "Grey hoodie, size M", "Brushed fleece inside.", "apparel", "49.00", 35),
    ("SNEAKER-42", "Canvas sneakers, EU 42", "Vulcanised rubber sole.", "shoes", "59.90", 18),
    ("BOOT-WOOL-41", "Wool-lined boots, EU 41", "Waterproof leather.", "shoes", "129.00", 7),
    ("MUG-STONE", "Stoneware mug", "350 ml, dishwasher safe.", "kitchen", "12.50", 240),
    ("KNIFE-CHEF-20", "Chef's knife, 20 cm", "Carbon steel.", "kitchen", "89.00", 15),
    ("LAMP-DESK-01", "Desk lamp", "LED, warm white, dimmable.", "home", "39.95", 42),
]


def seed_samples(conninfo: str) -> int:
    """Insert the hand-written samples; returns how many rows were added."""
    with psycopg.connect(conninfo, options=session_options(), autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (sku, name, description, category, price, stock) VALUES (%s, %s, %s, %s, %s, %s)",
            [(sku, name, desc, cat, Decimal(price), stock) for sku, name, desc, cat, price, stock in SAMPLES],
        )
        return len(SAMPLES)


def seed_generated(conninfo: str, count: int) -> None:
    """`count` synthetic products over five categories (for load tests)."""
    categories = ("apparel", "shoes", "kitchen", "home", "garden")
    rows = [
        (
            f"GEN-{i:06d}",
            f"Generated product {i}",
            "Synthetic catalog entry for load tests. " * 3,
            categories[i % len(categories)],
            Decimal(i % 500) + Decimal("0.99"),
            i % 100,
        )
        for i in range(count)
    ]
    with psycopg.connect(conninfo, options=session_options(), autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (sku, name, description, category, price, stock) VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
