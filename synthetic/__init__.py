"""Procedural anime-like titles, episodes and query perturbations with exact ground truth, for tests and demos."""
