"""What an `index add` of files and folders becomes: one planned source per video or image group."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index.ingest.episodes import parse_episode
from index.ingest.readers import is_image, is_video
from index.types import SourceKind
from model.files import file_sha256


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """A future `SourceRecord`: a video file, or the images of one folder/upload for an episode."""

    kind: SourceKind
    paths: tuple[Path, ...]
    episode: str | None
    uri: str


@dataclass(frozen=True, slots=True)
class IngestError:
    """A file that could not be added, by name, and why."""

    path: str
    message: str


def plan_sources(
    paths: Iterable[Path | str], episode: str | None = None
) -> tuple[list[SourcePlan], list[IngestError]]:
    """Group the given files and folders into sources.

    Layout of a folder: `TITLE/[EPISODE/]*.{jpg,png,webp,mkv,...}`. Images directly inside a folder
    form one source; each subfolder's images form one source whose episode is parsed from (or is)
    the subfolder name; every video is its own source with the episode parsed from its file name.
    An explicit `episode` overrides every parsed one. Loose image files (an upload, or images
    named one by one) get their episode from their own names like videos do, and since a source
    has one episode they form one source per parsed episode (one for those without any).
    """
    plans: list[SourcePlan] = []
    errors: list[IngestError] = []
    loose_images: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _plan_folder(path, episode, plans, errors, depth=0)
        elif not path.exists():
            errors.append(IngestError(str(path), "no such file or folder"))
        elif is_video(path):
            plans.append(_video_plan(path, episode))
        elif is_image(path):
            loose_images.append(path)
        else:
            errors.append(
                IngestError(str(path), f"unsupported file type {path.suffix or '(none)'}")
            )
    plans.extend(_loose_image_plans(loose_images, episode))
    return plans, errors


def _loose_image_plans(images: list[Path], episode: str | None) -> list[SourcePlan]:
    if not images:
        return []
    if episode is not None:
        return [_images_plan(images, episode)]
    groups: dict[str | None, list[Path]] = {}
    for path in images:
        groups.setdefault(parse_episode(path.name, bare_number=False), []).append(path)
    # Sorted so that the same files give the same plans in any order (None first).
    ordered = sorted(groups.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    return [_images_plan(group, parsed) for parsed, group in ordered]


def _plan_folder(
    folder: Path,
    episode: str | None,
    plans: list[SourcePlan],
    errors: list[IngestError],
    depth: int,
) -> None:
    images: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() and depth == 0:
            sub_episode = episode or parse_episode(child.name) or child.name
            _plan_folder(child, sub_episode, plans, errors, depth=1)
        elif child.is_file() and is_video(child):
            plans.append(_video_plan(child, episode))
        elif child.is_file() and is_image(child):
            images.append(child)
    if images:
        plans.append(_images_plan(images, episode, uri=str(folder)))


def _video_plan(path: Path, episode: str | None) -> SourcePlan:
    return SourcePlan("video", (path,), episode or parse_episode(path.name), str(path))


def _images_plan(images: list[Path], episode: str | None, uri: str | None = None) -> SourcePlan:
    ordered = tuple(sorted(images))
    if uri is None:
        uri = (
            str(ordered[0]) if len(ordered) == 1 else f"{ordered[0].parent} ({len(ordered)} images)"
        )
    return SourcePlan("images", ordered, episode, uri)


def source_hash(plan: SourcePlan) -> str:
    """sha256 of a video's bytes, or of the sorted hashes of a group's images (order-free)."""
    if plan.kind == "video":
        return file_sha256(plan.paths[0])
    hashes = sorted(file_sha256(path) for path in plan.paths)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
