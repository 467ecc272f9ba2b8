"""Videos added over HTTP kept under DATA_DIR/sources (SHAZAM_KEEP_SOURCES), so preview clips can
be cut from them later; a kept copy no source refers to any more is removed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from app.uploads import SpooledUpload
from index.store.frame_store import FrameStore

SOURCES_DIR = "sources"


def keep_videos(spooled: list[SpooledUpload], data_dir: Path) -> list[Path]:
    """The uploads' paths, videos first moved (same disk: a rename) to a folder of their own
    under DATA_DIR/sources, keeping their names (episodes are read from names)."""
    root = data_dir / SOURCES_DIR
    paths = []
    for upload in spooled:
        if upload.kind != "video":
            paths.append(upload.path)
            continue
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="src-", dir=root))
        paths.append(Path(shutil.move(upload.path, folder / upload.path.name)))
    return paths


def drop_unused(paths: list[Path], store: FrameStore, data_dir: Path) -> None:
    """Remove the kept copies among `paths` that no stored source names (a failed add, or a
    video the catalog already had)."""
    used = store.media_paths()
    root = (data_dir / SOURCES_DIR).resolve()
    for path in paths:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            continue  # not a kept copy: left to its owner
        if str(resolved.relative_to(data_dir.resolve())) not in used:
            shutil.rmtree(resolved.parent, ignore_errors=True)


def drop_title_media(media: set[str], store: FrameStore, data_dir: Path) -> None:
    """After a title is removed: its kept copies, unless another source still names them.
    Videos the CLI recorded where they were found are never touched."""
    drop_unused([data_dir / path for path in media], store, data_dir)


def drop_orphans(store: FrameStore, data_dir: Path) -> None:
    """At start: kept copies of adds that a stop interrupted (their jobs never finished)."""
    root = data_dir / SOURCES_DIR
    if root.is_dir():
        kept = [path for path in root.glob("src-*/*") if path.is_file()]
        drop_unused(kept, store, data_dir)
