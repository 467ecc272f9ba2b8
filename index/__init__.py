"""Frame catalog (SQLite), HNSW vector store, ingestion and identification. Knows nothing of HTTP or training."""
