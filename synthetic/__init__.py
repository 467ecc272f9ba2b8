"""Procedural anime-like titles, episodes and query perturbations with exact ground truth."""

from synthetic.dataset import (
    ImageTruth,
    VideoTruth,
    episode_label,
    write_image_tree,
    write_title_videos,
)
from synthetic.perturb import PERTURBATIONS, apply_perturbations, player_window_with_box
from synthetic.render import render_frame
from synthetic.shots import Shot, episode_shots, shot_at
from synthetic.titles import TitleStyle, make_title, make_titles
from synthetic.video import FrameTruth, frame_truth, write_corrupt_video, write_episode

__all__ = [
    "PERTURBATIONS",
    "FrameTruth",
    "ImageTruth",
    "Shot",
    "TitleStyle",
    "VideoTruth",
    "episode_label",
    "episode_shots",
    "frame_truth",
    "make_title",
    "make_titles",
    "apply_perturbations",
    "player_window_with_box",
    "render_frame",
    "shot_at",
    "write_corrupt_video",
    "write_episode",
    "write_image_tree",
    "write_title_videos",
]
