"""Image embedders: screenshot in, L2-normalised float32 vector out; no HTTP, no storage."""
