"""Frame catalog (SQLite), HNSW vectors, ingestion, identification; no HTTP, no training."""
