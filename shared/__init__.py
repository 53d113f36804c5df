"""Shared building blocks of the Product Catalog API platform: configuration, naming and constructs."""
