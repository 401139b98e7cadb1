"""Content service: the collateral catalog (Elasticsearch), its files (S3) and search."""
