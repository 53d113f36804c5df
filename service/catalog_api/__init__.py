"""Product Catalog API: the reference service that the platform deploys by default."""

__version__ = "1.0.0"
