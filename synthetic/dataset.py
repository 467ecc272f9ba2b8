"""Writes generated titles in the layouts ingestion and training read: image trees and videos."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from synthetic.render import render_frame
from synthetic.titles import TitleStyle
from synthetic.video import FrameTruth, write_episode


class ImageTruth(NamedTuple):
    path: Path
    title: str
    episode: str  # the episode folder name, exactly what ingestion records as the episode
    timestamp: float  # seconds into the episode the frame was rendered at


class VideoTruth(NamedTuple):
    path: Path
    title: str
    episode: str
    frames: list[FrameTruth]


def episode_label(episode: int) -> str:
    """Folder/file name of an episode, e.g. 3 -> "ep03"."""
    return f"ep{episode:02d}"


def title_dirname(name: str) -> str:
    """The title's folder name: its display name, minus characters file systems reject."""
    cleaned = re.sub(r'[<>:"/\\|?*\x00-\x1f]', "", name).strip().rstrip(".")
    if not cleaned:
        raise ValueError(f"title name {name!r} has no usable characters for a folder name")
    return cleaned


def write_image_tree(
    root: str | Path,
    titles: Sequence[TitleStyle],
    episodes_per_title: int,
    frames_per_episode: int,
    size: tuple[int, int] = (640, 360),
    seed: int = 0,
    seconds: float = 60.0,
    quality: int = 90,
) -> list[ImageTruth]:
    """`root/TITLE/epNN/tSSSSSSms.jpg` stills at jittered, evenly spread times of each episode."""
    if episodes_per_title < 1 or frames_per_episode < 1:
        raise ValueError("episodes_per_title and frames_per_episode must be >= 1")
    rng = random.Random(f"tree:{seed}")
    step = seconds / frames_per_episode
    truths: list[ImageTruth] = []
    for style in titles:
        for episode in range(1, episodes_per_title + 1):
            folder = Path(root) / title_dirname(style.name) / episode_label(episode)
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(frames_per_episode):
                t = round((k + rng.uniform(0.1, 0.9)) * step, 3)
                path = folder / f"t{round(t * 1000):07d}ms.jpg"
                render_frame(style, episode, t, size).save(path, quality=quality)
                truths.append(ImageTruth(path, style.name, episode_label(episode), t))
    return truths


def write_title_videos(
    root: str | Path,
    titles: Sequence[TitleStyle],
    episodes: int,
    seconds: float = 20.0,
    fps: int = 12,
    size: tuple[int, int] = (640, 360),
) -> list[VideoTruth]:
    """`root/TITLE/epNN.mp4` for episodes 1..`episodes` of every title, with per-frame truth."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    written: list[VideoTruth] = []
    for style in titles:
        for episode in range(1, episodes + 1):
            path = Path(root) / title_dirname(style.name) / f"{episode_label(episode)}.mp4"
            frames = write_episode(style, episode, path, seconds=seconds, fps=fps, size=size)
            written.append(VideoTruth(path, style.name, episode_label(episode), frames))
    return written
