"""`index add|list|remove|reembed` and `identify`: the catalog from the command line."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from app.cli.errors import CliError
from app.config import Settings

if TYPE_CHECKING:  # imported lazily at run time: `--help` must not load TensorFlow
    import numpy as np

    from app.services import Services
    from index.store.frame_store import FrameStore

_ADD_DESCRIPTION = """\
Add videos and screenshots to the catalog.

With --title, every PATH (video, image or folder) is added to that title; --episode applies
to all of them (otherwise episodes are read from file and folder names, e.g. "E03", "- 03").

Without --title, every PATH must be a folder laid out as TITLE/[EPISODE/]: the folder's name
is the title, videos and images directly inside it belong to it, and each subfolder is one
episode (its name, e.g. "03" or "Episode 3", gives the episode number).

Adding the same file twice is a no-op. A file that cannot be read is reported and skipped;
the exit status is 1 when nothing at all could be added."""


def add_parsers(subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    index = subcommands.add_parser(
        "index",
        parents=[common],
        help="manage the catalog: add, list, remove, reembed, compact, migrate",
        description="Manage the catalog of reference frames.",
    )
    actions = index.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        parents=[common],
        help="add videos, screenshots or TITLE/[EPISODE/] folders",
        description=_ADD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    add.add_argument("--title", help="title of everything added (default: each folder's name)")
    add.add_argument("--episode", help="episode of everything added, e.g. 3 or 'OVA 1'")
    add.add_argument(
        "--fps",
        type=float,
        help="most video frames kept per second (default SHAZAM_SAMPLE_FPS, 2)",
    )
    add.set_defaults(handler=run_add)

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="list the titles in the catalog",
        description="List the titles with their frame, episode and source counts.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser(
        "remove",
        parents=[common],
        help="remove a title and all its frames",
        description="Remove a title (matched case-insensitively) with all its frames. "
        "It stops matching at once.",
    )
    remove.add_argument("name", metavar="NAME", help="the title's name")
    remove.set_defaults(handler=run_remove)

    reembed = actions.add_parser(
        "reembed",
        parents=[common],
        help="re-embed the catalog with the current --model",
        description="Recompute every frame's vector from its stored thumbnail with the model "
        "given by --model / SHAZAM_MODEL (e.g. after training a new embedder), and switch "
        "the catalog to that model. The source videos are not needed.",
    )
    reembed.set_defaults(handler=run_reembed)

    compact = actions.add_parser(
        "compact",
        parents=[common],
        help="rewrite an older catalog in the compact formats (int8 vectors, WebP previews)",
        description="An older catalog works as it is; this reclaims its disk: float32 and "
        "deflated vectors become zstd int8, 384 px JPEG previews become 192 px WebP, "
        "the vector index takes the model's projection (SHAZAM_INDEX_DIMS) and the file is "
        "rewritten at the new page size (docs/compact.md). Stop the server first.",
    )
    compact.set_defaults(handler=run_compact)

    migrate = actions.add_parser(
        "migrate",
        parents=[common],
        help="fill another vector engine (hnswlib or Milvus) from the catalog",
        description="The catalog keeps every frame's vector, so moving to another vector engine "
        "is a fill from it: this opens the catalog with --to (and the SHAZAM_MILVUS_* settings), "
        "adds what that engine lacks, and prints the setting to serve with. Stop the server "
        "first (it holds the catalog); the old engine's files are left as they are.",
    )
    migrate.add_argument("--to", required=True, choices=["hnswlib", "milvus"])
    migrate.set_defaults(handler=run_migrate)

    identify = subcommands.add_parser(
        "identify",
        parents=[common],
        help="identify one screenshot and print the answer as JSON",
        description="Identify the title (and episode and second) of a screenshot. Prints JSON "
        'with "match" (null when unknown), the top-k "candidates" and the nearest frames.',
    )
    identify.add_argument("image", type=Path, metavar="IMAGE", help="screenshot file")
    identify.add_argument(
        "--top-k",
        type=int,
        help="titles in the vote (default SHAZAM_TOP_K, 5)",
    )
    identify.set_defaults(handler=run_identify)


@contextmanager
def opened_services(settings: Settings, *, read_only: bool = False) -> Iterator[Services]:
    """Model and catalog for one command, closed (index checkpointed) however the command ends.

    Writers take the data dir's lock, so a write beside a running server is refused; a
    `read_only` command never rewrites the index under one."""
    from app.services import open_services

    services = open_services(settings, read_only=read_only)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def opened_store(settings: Settings, *, read_only: bool = False) -> Iterator[FrameStore | None]:
    """The catalog alone, opened with the model it was built with: listing and removing titles
    need no embedder, so they skip loading TensorFlow. None when the data dir has no catalog."""
    from app.services import open_store_for
    from index.store.frame_store import FrameStore

    stored = FrameStore.stored_model(settings.data_dir)
    if stored is None:
        yield None
        return
    store = open_store_for(settings, *stored, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.fps is not None and not 0 < args.fps <= 30:
        raise CliError(f"--fps must be in (0, 30], got {args.fps}")
    jobs = _add_jobs(args.paths, args.title)
    with opened_services(settings) as services:
        added = failed = 0
        for title, paths in jobs:
            # The ingestor draws its own progress bar when stderr is a terminal.
            report = services.ingestor.ingest(title, paths, episode=args.episode, fps=args.fps)
            added += report.frames_added
            failed += len(report.errors)
            for error in report.errors:
                print(f"skipped {error.path}: {error.message}", file=sys.stderr)
            print(
                f"{title}: +{report.frames_added} frames from {report.sources_added} new "
                f"source(s), {report.sources_skipped} already present"
            )
    if failed and not added:
        raise CliError(f"nothing added: {failed} file(s) could not be read")
    return 0


def _add_jobs(paths: list[Path], title: str | None) -> list[tuple[str, list[Path]]]:
    """(title, paths) pairs: all paths under --title, or one title per TITLE/ folder."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise CliError(f"no such file or folder: {', '.join(missing)}")
    if title is not None:
        if not title.strip():
            raise CliError("--title must not be empty")
        return [(title.strip(), list(paths))]
    files = [str(path) for path in paths if not path.is_dir()]
    if files:
        raise CliError(
            f"--title is required when adding files ({files[0]}); "
            "without it every PATH must be a TITLE/ folder"
        )
    return [(path.resolve().name, [path]) for path in paths]


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    with opened_store(settings, read_only=True) as store:
        titles = store.titles() if store else []
        model_name = store.model_name if store else None
    if args.json:
        print(json.dumps([asdict(title) for title in titles], indent=2))
        return 0
    if not titles:
        print(f"the catalog in {settings.data_dir} is empty; add titles with `index add`")
        return 0
    width = max(len("title"), *(len(title.name) for title in titles))
    print(f"{'id':>5}  {'title':<{width}}  {'episodes':>8}  {'sources':>7}  {'frames':>7}")
    for title in titles:
        print(
            f"{title.id:>5}  {title.name:<{width}}  {title.episodes:>8}  "
            f"{title.sources:>7}  {title.frames:>7}"
        )
    frames = sum(title.frames for title in titles)
    print(f"{len(titles)} titles, {frames} frames, model {model_name}")
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    with opened_store(settings) as store:
        title = store.find_title(args.name) if store else None
        if title is None:
            raise CliError(f"no title named {args.name!r}; see `shazam-anime index list`")
        store.remove_title(title.id)
    print(f"removed {title.name} ({title.frames} frames)")
    return 0


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    target = settings.model_copy(update={"vector_backend": args.to})
    with opened_store(target) as store:
        if store is None:
            raise CliError(f"no catalog in {settings.data_dir}: nothing to migrate")
        stats = store.stats()
    print(
        f"{stats.extra['vector_backend']} now holds {stats.extra['index_live']} of "
        f"{stats.frames} frames; serve with SHAZAM_VECTOR_BACKEND={args.to}"
    )
    return 0


def run_compact(args: argparse.Namespace, settings: Settings) -> int:
    from index.ingest.mapper import encode_thumbnail
    from index.store.frame_store import FrameStore

    if FrameStore.stored_model(settings.data_dir) is None:
        raise CliError(f"no catalog in {settings.data_dir}: nothing to compact")

    def reencode(jpeg: bytes) -> bytes:
        with Image.open(io.BytesIO(jpeg)) as image:
            return encode_thumbnail(image)

    with opened_services(settings) as services:  # the model's projection is taken on open
        before = services.store.stats().extra["catalog_bytes"]
        count = services.store.compact(reencode)
        stats = services.store.stats()
    print(
        f"compacted {count} of {stats.frames} frames: catalog {before:,} -> "
        f"{stats.extra['catalog_bytes']:,} bytes; the index holds {stats.extra['index_dim']} dims"
    )
    return 0


def run_reembed(args: argparse.Namespace, settings: Settings) -> int:
    """Open the catalog with the model it was built with, then switch it to `settings.model`."""
    from tqdm import tqdm

    from model.fit import to_rgb
    from model.registry import load_embedder

    with opened_store(settings) as store:
        if store is None:
            raise CliError(f"no catalog in {settings.data_dir}: nothing to re-embed")
        embedder = load_embedder(
            settings.model, settings.resolved_cache_dir, threads=settings.inference_threads
        )
        print(
            f"re-embedding with {embedder.name} (dim {embedder.dim}), "
            f"was {store.model_name} (dim {store.dim})"
        )

        def embed(thumbnails: list[bytes]) -> np.ndarray:
            images = [to_rgb(Image.open(io.BytesIO(data))) for data in thumbnails]
            return embedder.embed(images)

        with tqdm(unit="frame", file=sys.stderr, disable=None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            count = store.reembed(
                embed,
                model_name=embedder.name,
                dim=embedder.dim,
                batch=settings.embed_batch_size,
                progress=progress,
            )
    print(f"re-embedded {count} frames; the catalog now uses {embedder.name}")
    return 0


def run_identify(args: argparse.Namespace, settings: Settings) -> int:
    from app.answers import build_response
    from index.ingest.readers import read_image

    top_k = args.top_k if args.top_k is not None else settings.top_k
    if not 1 <= top_k <= 50:
        raise CliError(f"--top-k must be between 1 and 50, got {top_k}")
    if not args.image.is_file():
        raise CliError(f"no such image: {args.image}")
    image = read_image(args.image)
    with opened_services(settings, read_only=True) as services:
        if services.identifier.title_head is not None:
            services.identifier.title_head.refit()  # one query per process: fit before it
        started = time.perf_counter()
        answer = services.identifier.identify(image, top_k)
        took_ms = (time.perf_counter() - started) * 1000
        # The same JSON as POST /identify, so scripts can switch between the two.
        response = build_response(answer, services.store, settings.data_dir, took_ms=took_ms)
    print(response.model_dump_json(indent=2, by_alias=True))
    return 0
