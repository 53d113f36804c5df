"""Sample products for `make serve`, `make bench` and `make sale-rehearsal`, inserted through the restricted role."""

from __future__ import annotations

import random
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


# A storefront's catalog: a handful of categories, names people search for, prices and stock that
# vary. Deterministic for a given seed, so two rehearsals see the same catalog.
_CATALOG = {
    "apparel": (("T-shirt", "hoodie", "jacket", "shirt", "sweater", "scarf"), ("S", "M", "L", "XL"), (9, 120)),
    "shoes": (("sneakers", "boots", "sandals", "loafers", "slippers"), ("EU 38", "EU 40", "EU 42", "EU 44"), (25, 220)),
    "kitchen": (("mug", "teapot", "knife", "pan", "bowl", "cutting board"), ("small", "large"), (6, 160)),
    "home": (("lamp", "cushion", "blanket", "vase", "rug", "mirror"), ("small", "medium", "large"), (12, 400)),
    "garden": (("planter", "hose", "trowel", "bench", "lantern"), ("small", "large"), (8, 350)),
    "sports": (("yoga mat", "water bottle", "backpack", "tent", "helmet"), ("one size", "large"), (10, 300)),
}
_COLOURS = ("red", "blue", "green", "black", "white", "grey", "navy", "olive", "sand", "rust")
_MATERIALS = ("cotton", "linen", "wool", "leather", "canvas", "stoneware", "steel", "bamboo", "recycled")
CATEGORIES = tuple(_CATALOG)
SEARCH_WORDS = tuple(sorted({word for nouns, _, _ in _CATALOG.values() for noun in nouns for word in noun.split()}))
"""Words that occur in generated names (each at least 3 characters), for searches that find something."""


def seed_catalog(conninfo: str, count: int, *, seed: int = 16) -> None:
    """`count` products that look like a shop's: colour, material, item and size in the name, prices by category."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        category = CATEGORIES[i % len(CATEGORIES)]
        nouns, sizes, (low, high) = _CATALOG[category]
        colour, material, noun, size = (
            rng.choice(_COLOURS),
            rng.choice(_MATERIALS),
            rng.choice(nouns),
            rng.choice(sizes),
        )
        # Log-uniform: many cheap items, a few dear ones, as in most shops.
        price = Decimal(str(round(low * (high / low) ** rng.random(), 0))) - Decimal("0.01")
        rows.append(
            (
                f"{category[:3].upper()}-{i:06d}",
                f"{colour.capitalize()} {material} {noun}, {size}",
                f"{material.capitalize()} {noun} in {colour}. Ships in 2-3 days.",
                category,
                max(price, Decimal("0.99")),
                rng.choice((0, 3, 12, 40, 150, 600)),
            )
        )
    with psycopg.connect(conninfo, options=session_options(), autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (sku, name, description, category, price, stock) VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
