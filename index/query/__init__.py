"""The query: screenshot views, search, vote (`vote`), re-rank, scenes and `Identifier`."""
