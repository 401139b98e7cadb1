"""Machinery every Collateral process shares: configuration, gRPC bootstrap, auth,
metrics, logging, the Kafka consumer loop, and Elasticsearch and S3 helpers."""
