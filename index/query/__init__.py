"""The query: screenshot views, search, vote, re-rank and scenes (`Identifier`)."""
