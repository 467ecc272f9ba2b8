"""Ingestion: read frames from files, embed them, write them to the store."""
