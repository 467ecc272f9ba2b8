"""The store: SQLite catalog + vector index, kept consistent across crashes (`FrameStore`)."""
