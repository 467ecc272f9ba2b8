"""Shared training fixtures: a small generated frame tree and one short training run."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic.dataset import write_image_tree
from synthetic.titles import make_titles
from tests.training.short_run import Run, interrupted_and_resumed_run


@pytest.fixture(scope="session")
def frame_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 invented titles x 4 episodes x 8 frames of 128x72: about half a second to render."""
    root = tmp_path_factory.mktemp("frames")
    write_image_tree(root, make_titles(4, seed=3), 4, 8, size=(128, 72), seed=0)
    return root


@pytest.fixture(scope="session")
def run(frame_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The short run every end-to-end test reads (training, export, serving): trained once."""
    return interrupted_and_resumed_run(frame_tree, tmp_path_factory.mktemp("run"))
