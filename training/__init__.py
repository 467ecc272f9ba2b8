"""Offline Siamese contrastive fine-tuning, model surgery export and evaluation."""
