"""Ingestion as reader -> mapper -> writer: files in, embedded frames written once per source
(or, for an all-or-nothing add, once every source is read and embedded)."""

from __future__ import annotations

import hashlib
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from queue import Empty, Full, Queue
from threading import Event, Thread
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from PIL import Image

from index.ingest.readers import (
    SampledFrame,
    SamplingParams,
    UnreadableMediaError,
    probe_duration,
    read_image,
    read_video,
)
from index.ingest.sources import IngestError, SourcePlan, plan_sources, source_hash
from index.types import FrameRecord, SourceRecord
from model.base import Embedder

if TYPE_CHECKING:
    from index.store.frame_store import FrameStore

# Called with the fraction of the work done and the number of frames embedded so far.
Progress = Callable[[float, int], None]
T = TypeVar("T")

THUMBNAIL_WIDTH = 384
THUMBNAIL_QUALITY = 85


@dataclass(slots=True)
class IngestReport:
    """What one `ingest` call did; `timings` holds seconds per stage (stages overlap in time)."""

    title: str
    title_id: int | None
    frames_added: int = 0
    frames_total: int = 0
    frames_embedded: int = 0  # read and embedded, whether or not they were written in the end
    sources_added: int = 0
    sources_skipped: int = 0
    errors: list[IngestError] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class StageTimer:
    """Accumulates wall time per named stage, from any thread (one writer per stage name)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def timed(self, name: str, items: Iterable[T]) -> Iterator[T]:
        """Re-yield `items`, charging the time spent producing each one to `name`."""
        iterator = iter(items)
        while True:
            with self.stage(name):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item


@dataclass(frozen=True, slots=True)
class _StagedSource:
    """A source read and embedded, not yet written."""

    source: SourceRecord
    records: list[FrameRecord]
    vectors: np.ndarray


@dataclass(frozen=True, slots=True)
class _Batch:
    records: list[FrameRecord]
    images: list[Image.Image]
    position: float  # fraction of the source read so far, for progress


class Ingestor:
    """Adds videos and screenshots of a title to a `FrameStore` with a given embedder."""

    def __init__(
        self,
        embedder: Embedder,
        store: FrameStore,
        batch_size: int = 16,
        fps: float = 2.0,
        sampling: SamplingParams | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.embedder = embedder
        self.store = store
        self.batch_size = batch_size
        self.sampling = _with_fps(sampling or SamplingParams(), fps)

    def ingest(
        self,
        title: str,
        paths: Sequence[Path | str] | Path | str,
        episode: str | None = None,
        fps: float | None = None,
        progress: Progress | None = None,
        *,
        atomic: bool = False,
    ) -> IngestReport:
        """Add every video and image under `paths` to `title`; bad files are reported, not fatal.

        By default each good source is written as soon as it is embedded, so one bad file in a
        folder does not cost the others. `atomic` makes the add all-or-nothing (as the API
        promises): every source is read and embedded first, held in memory (a thumbnail and a
        vector per frame), and none is written if any file failed; reading stops at the first.
        """
        title = title.strip()
        if not title:
            raise ValueError("title must not be empty")
        if isinstance(paths, (str, Path)):
            paths = [paths]
        sampling = self.sampling if fps is None else _with_fps(self.sampling, fps)
        plans, errors = plan_sources(paths, episode)
        existing = self.store.find_title(title)
        report = IngestReport(title, existing.id if existing else None, errors=errors)
        report.frames_total = existing.frames if existing else 0
        timer = StageTimer()
        started = time.perf_counter()
        staged: list[_StagedSource] = []
        with _progress_sink(progress) as notify:
            for index, plan in enumerate(plans):
                if atomic and report.errors:
                    break  # nothing will be written: reading on would only cost time

                def source_progress(fraction: float, index: int = index) -> None:
                    notify((index + min(1.0, fraction)) / len(plans), report.frames_embedded)

                source = self._stage_source(title, plan, sampling, timer, report, source_progress)
                if source is not None and atomic:
                    staged.append(source)
                elif source is not None:
                    self._write(source, timer, report)
                notify((index + 1) / len(plans), report.frames_embedded)
            if not report.errors:
                for source in staged:
                    self._write(source, timer, report)
            notify(1.0, report.frames_embedded)
        report.timings = dict(timer.seconds, total=time.perf_counter() - started)
        return report

    def _stage_source(
        self,
        title: str,
        plan: SourcePlan,
        sampling: SamplingParams,
        timer: StageTimer,
        report: IngestReport,
        progress: Callable[[float], None],
    ) -> _StagedSource | None:
        """Read and embed one source; None when it is already stored or failed (reported)."""
        try:
            with timer.stage("hash"):
                content_hash = source_hash(plan)
        except OSError as error:
            reason = error.strerror or type(error).__name__  # not str(error): it quotes the path
            report.errors.append(IngestError(plan.uri, f"cannot read file ({reason})"))
            return None
        if self.store.has_source(content_hash):
            report.sources_skipped += 1
            return None
        try:
            records, vectors = self._embed_source(plan, sampling, timer, report, progress)
        except UnreadableMediaError as error:
            report.errors.append(IngestError(str(error.path), error.reason))
            return None
        if not records:
            report.errors.append(IngestError(plan.uri, "no frames could be read"))
            return None
        source = SourceRecord(title, plan.kind, plan.uri, content_hash, plan.episode)
        return _StagedSource(source, records, vectors)

    def _write(self, staged: _StagedSource, timer: StageTimer, report: IngestReport) -> None:
        # One transaction per source: a failure before it leaves nothing behind for this file.
        with timer.stage("write"):
            result = self.store.add(staged.source, staged.records, staged.vectors)
        report.title_id = result.title_id
        report.frames_total = result.frames_total
        report.frames_added += result.frames_added
        if result.source_id is None:
            report.sources_skipped += 1
        else:
            report.sources_added += 1

    def _embed_source(
        self,
        plan: SourcePlan,
        sampling: SamplingParams,
        timer: StageTimer,
        report: IngestReport,
        progress: Callable[[float], None],
    ) -> tuple[list[FrameRecord], np.ndarray]:
        """Read and map in a background thread while this one embeds: decode overlaps TF."""
        records: list[FrameRecord] = []
        vectors: list[np.ndarray] = []
        batches = self._batches(plan, sampling, timer, report)
        for batch in _prefetch(batches, depth=2):
            with timer.stage("embed"):
                vectors.append(self.embedder.embed(batch.images))
            records.extend(batch.records)
            report.frames_embedded += len(batch.records)
            progress(batch.position)
        if not vectors:
            return [], np.empty((0, self.embedder.dim), np.float32)
        return records, np.concatenate(vectors).astype(np.float32, copy=False)

    def _batches(
        self, plan: SourcePlan, sampling: SamplingParams, timer: StageTimer, report: IngestReport
    ) -> Iterator[_Batch]:
        frames, position = _read_plan(plan, sampling, report)
        seen: set[str] = set()
        records: list[FrameRecord] = []
        images: list[Image.Image] = []
        for frame in timer.timed("read", frames):
            with timer.stage("map"):
                record = make_record(frame)
            if record.content_hash in seen:  # exact repeats carry no information
                continue
            seen.add(record.content_hash)
            records.append(record)
            images.append(frame.image)
            if len(records) == self.batch_size:
                yield _Batch(records, images, position(frame))
                records, images = [], []
        if records:
            yield _Batch(records, images, 1.0)


def _with_fps(sampling: SamplingParams, fps: float) -> SamplingParams:
    """`sampling` at `fps`, refused here so a bad rate fails before any file is read."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return replace(sampling, fps=fps)


def make_record(frame: SampledFrame) -> FrameRecord:
    """Mapper: pixel hash and JPEG thumbnail of a decoded frame."""
    image = frame.image
    pixel_hash = hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest()
    return FrameRecord(frame.timestamp, pixel_hash, encode_thumbnail(image))


def encode_thumbnail(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> bytes:
    """JPEG at most `width` wide: enough for answers, the flip check and `index reembed`."""
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=False)
    return buffer.getvalue()


def _read_plan(
    plan: SourcePlan, sampling: SamplingParams, report: IngestReport
) -> tuple[Iterator[SampledFrame], Callable[[SampledFrame], float]]:
    """Reader for one source and a function telling how far through it a frame is."""
    if plan.kind == "video":
        duration = probe_duration(plan.paths[0]) or 0.0

        def video_position(frame: SampledFrame) -> float:
            return min(1.0, (frame.timestamp or 0.0) / duration) if duration > 0 else 0.0

        return read_video(plan.paths[0], sampling), video_position

    count = len(plan.paths)
    done = [0]

    def images() -> Iterator[SampledFrame]:
        # One unreadable screenshot is reported by name; the rest of its folder still goes in.
        for path in plan.paths:
            done[0] += 1
            try:
                yield SampledFrame(read_image(path), None)
            except UnreadableMediaError as error:
                report.errors.append(IngestError(str(error.path), error.reason))

    return images(), lambda _frame: done[0] / count


def _prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run `items` in a thread, `depth` ahead; its exceptions re-raise here, in order."""
    queue: Queue[tuple[str, object]] = Queue(maxsize=depth)
    stop = Event()

    def put(message: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                queue.put(message, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, not swallowed
            put(("error", error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "item":
                yield value  # type: ignore[misc]
            elif kind == "done":
                return
            else:
                raise value  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.1)


@contextmanager
def _progress_sink(progress: Progress | None) -> Iterator[Progress]:
    """The caller's callback, else a tqdm bar on a terminal, else nothing."""
    if progress is not None:
        yield progress
        return
    if not sys.stderr.isatty():
        yield lambda _fraction, _frames: None
        return
    from tqdm import tqdm

    bar_format = "{l_bar}{bar}| {elapsed}<{remaining}{postfix}"
    with tqdm(total=100, unit="%", bar_format=bar_format) as bar:

        def advance(fraction: float, frames: int) -> None:
            bar.set_postfix_str(f"{frames} frames", refresh=False)
            target = round(100 * fraction)
            if target > bar.n:
                bar.update(target - bar.n)

        yield advance
