"""Image embedders: a screenshot in, an L2-normalised float32 vector out. Knows nothing of HTTP or storage."""
