"""The ingestion runner: reader -> mapper -> writer for each planned source, composed in one place
that owns the stage timings, the progress callback and the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from queue import Empty, Full, Queue
from threading import Event, Thread
from typing import TypeVar

import numpy as np
from PIL import Image

from index.ingest.mapper import FrameMapper
from index.ingest.readers import SampledFrame, UnreadableMediaError
from index.ingest.sources import IngestError, SourcePlan, source_hash
from index.ingest.writer import EmbeddedSource, StoreWriter
from index.types import AddResult, FrameRecord, SourceRecord

# Called with the fraction of the work done and the number of frames embedded so far.
Progress = Callable[[float, int], None]
# The frames of one source, each with how far through the source it is; bad images go to `skip`.
Reader = Callable[
    [SourcePlan, Callable[[UnreadableMediaError], None]], Iterator[tuple[SampledFrame, float]]
]
T = TypeVar("T")


@dataclass(slots=True)
class IngestReport:
    """What one ingestion did; `timings` holds seconds per stage (stages overlap in time)."""

    title: str
    title_id: int | None
    frames_added: int = 0
    frames_total: int = 0
    frames_embedded: int = 0  # read and embedded, whether or not they were written in the end
    sources_added: int = 0
    sources_skipped: int = 0
    errors: list[IngestError] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Batch:
    records: list[FrameRecord]
    masters: list[bytes | None]  # finer copies of large previews, until the source is fitted
    images: list[Image.Image]
    position: float  # fraction of the source read so far, for progress
    duration: float | None  # of the source video, when declared


class IngestRunner:
    """Runs the stages over planned sources. A bad file is reported, never fatal, never
    half-written; with an atomic writer, reading stops at the first error and nothing is written."""

    def __init__(
        self,
        reader: Reader,
        mapper: FrameMapper,
        writer: StoreWriter,
        batch_size: int,
        *,
        keep_media: bool = True,
    ) -> None:
        self.reader = reader
        self.mapper = mapper
        self.writer = writer
        self.batch_size = batch_size
        self.keep_media = keep_media  # record each video's path, for preview clips

    def run(
        self, plans: Sequence[SourcePlan], report: IngestReport, progress: Progress | None = None
    ) -> IngestReport:
        timer = StageTimer()
        started = time.perf_counter()
        with _progress_sink(progress) as notify:
            for index, plan in enumerate(plans):
                if self.writer.atomic and report.errors:
                    break  # nothing will be written: reading on would only cost time

                def source_progress(fraction: float, index: int = index) -> None:
                    notify((index + min(1.0, fraction)) / len(plans), report.frames_embedded)

                embedded = self._embed_source(report.title, plan, timer, report, source_progress)
                if embedded is not None:
                    with timer.stage("write"):
                        _count(report, self.writer(embedded))
                notify((index + 1) / len(plans), report.frames_embedded)
            if report.errors:
                self.writer.discard()
            else:
                with timer.stage("write"):
                    _count(report, self.writer.flush())
            notify(1.0, report.frames_embedded)
        report.timings = dict(timer.seconds, total=time.perf_counter() - started)
        return report

    def _embed_source(
        self,
        title: str,
        plan: SourcePlan,
        timer: StageTimer,
        report: IngestReport,
        progress: Callable[[float], None],
    ) -> EmbeddedSource | None:
        """Read and embed one source; None when it is already stored or failed (reported)."""
        try:
            with timer.stage("hash"):
                content_hash = source_hash(plan)
        except OSError as error:
            reason = error.strerror or type(error).__name__  # not str(error): it quotes the path
            report.errors.append(IngestError(plan.uri, f"cannot read file ({reason})"))
            return None
        if self.writer.known(content_hash):
            report.sources_skipped += 1
            return None
        records: list[FrameRecord] = []
        masters: list[bytes | None] = []
        vectors: list[np.ndarray] = []
        duration = None
        try:
            # Read and map on a background thread while this one embeds: decode overlaps TF.
            for batch in _prefetch(self._batches(plan, timer, report), depth=2):
                with timer.stage("embed"):
                    vectors.append(self.mapper.embed(batch.images))
                records.extend(batch.records)
                masters.extend(batch.masters)
                duration = batch.duration
                report.frames_embedded += len(batch.records)
                progress(batch.position)
        except UnreadableMediaError as error:
            report.errors.append(IngestError(str(error.path), error.reason))
            return None
        if not records:
            report.errors.append(IngestError(plan.uri, "no frames could be read"))
            return None
        with timer.stage("map"):
            records = self.mapper.fit_previews(records, masters)
        # The file it was added from, so preview clips can be cut from it later.
        media = str(plan.paths[0].resolve()) if plan.kind == "video" and self.keep_media else None
        source = SourceRecord(
            title, plan.kind, plan.uri, content_hash, plan.episode, duration, media
        )
        return EmbeddedSource(
            source, records, np.concatenate(vectors).astype(np.float32, copy=False)
        )

    def _batches(
        self, plan: SourcePlan, timer: StageTimer, report: IngestReport
    ) -> Iterator[_Batch]:
        def skip(error: UnreadableMediaError) -> None:
            report.errors.append(IngestError(str(error.path), error.reason))

        seen: set[str] = set()
        records: list[FrameRecord] = []
        masters: list[bytes | None] = []
        images: list[Image.Image] = []
        for frame, position in timer.timed("read", self.reader(plan, skip)):
            with timer.stage("map"):
                record, master = self.mapper.record(frame)
            if record.content_hash in seen:  # exact repeats carry no information
                continue
            seen.add(record.content_hash)
            records.append(record)
            masters.append(master)
            images.append(frame.image)
            if len(records) == self.batch_size:
                yield _Batch(records, masters, images, position, frame.source_duration)
                records, masters, images = [], [], []
        if records:
            yield _Batch(records, masters, images, 1.0, frame.source_duration)


def _count(report: IngestReport, results: list[AddResult]) -> None:
    for result in results:
        report.title_id = result.title_id
        report.frames_total = result.frames_total
        report.frames_added += result.frames_added
        if result.source_id is None:
            report.sources_skipped += 1
        else:
            report.sources_added += 1


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
