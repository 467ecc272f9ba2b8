"""On-disk layouts: TITLE/EPISODE/*.jpg trees and TITLE/epNN.mp4 videos with their truth."""

import av
import numpy as np
from PIL import Image

from synthetic.dataset import write_image_tree, write_title_videos
from synthetic.render import render_frame
from synthetic.titles import make_titles


def test_image_tree_layout_and_truth(tmp_path):
    titles = make_titles(2, seed=4)
    truths = write_image_tree(tmp_path, titles, 2, 3, size=(160, 90), seed=1, seconds=30.0)
    assert len(truths) == 2 * 2 * 3
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jpg")) == sorted(
        t.path.relative_to(tmp_path) for t in truths
    )
    for truth in truths:
        assert truth.path.parent.name == truth.episode
        assert truth.path.parent.parent.name == truth.title
        assert 0.0 <= truth.timestamp < 30.0
    first = truths[0]
    style = next(s for s in titles if s.name == first.title)
    stored = np.asarray(Image.open(first.path), np.int16)
    rendered = np.asarray(render_frame(style, 1, first.timestamp, (160, 90)), np.int16)
    assert np.abs(stored - rendered).mean() < 6.0
    again = write_image_tree(tmp_path / "again", titles, 2, 3, size=(160, 90), seed=1, seconds=30.0)
    assert [t.timestamp for t in again] == [t.timestamp for t in truths]


def test_title_videos(tmp_path):
    titles = make_titles(2, seed=4)
    written = write_title_videos(tmp_path, titles, episodes=1, seconds=1.0, fps=4, size=(160, 90))
    assert [(v.title, v.episode) for v in written] == [(t.name, "ep01") for t in titles]
    for video in written:
        assert video.path == tmp_path / video.title / "ep01.mp4"
        with av.open(str(video.path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == len(video.frames) == 4
