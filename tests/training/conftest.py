"""A small generated TITLE/EPISODE/frame tree shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic.dataset import write_image_tree
from synthetic.titles import make_titles


@pytest.fixture(scope="session")
def frame_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 invented titles x 4 episodes x 8 frames of 128x72: about half a second to render."""
    root = tmp_path_factory.mktemp("frames")
    write_image_tree(root, make_titles(4, seed=3), 4, 8, size=(128, 72), seed=0)
    return root
