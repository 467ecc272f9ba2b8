"""Ingestion's entry point: files planned into sources, run through reader -> mapper -> writer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.ingest.mapper import FrameMapper
from index.ingest.readers import SampledFrame, SamplingParams, UnreadableMediaError, read_source
from index.ingest.runner import IngestReport, IngestRunner, Progress
from index.ingest.sources import SourcePlan, plan_sources
from index.ingest.writer import StoreWriter
from model.base import Embedder

if TYPE_CHECKING:
    from collections.abc import Callable

    from index.store.frame_store import FrameStore


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
        keep_media: bool = True,
    ) -> IngestReport:
        """Add every video and image under `paths` to `title`; bad files are reported, not fatal.

        By default each good source is written as soon as it is embedded, so one bad file in a
        folder does not cost the others. `atomic` makes the add all-or-nothing (as the API
        promises): every source is read and embedded first, held in memory (a thumbnail and a
        vector per frame), and none is written if any file failed; reading stops at the first.
        `keep_media` records where each video was read from, so preview clips can be cut from
        it later; pass False when the file will not stay there.
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

        def reader(
            plan: SourcePlan, skip: Callable[[UnreadableMediaError], None]
        ) -> Iterator[tuple[SampledFrame, float]]:
            return read_source(plan, sampling, skip)

        runner = IngestRunner(
            reader,
            FrameMapper(self.embedder),
            StoreWriter(self.store, atomic=atomic),
            self.batch_size,
            keep_media=keep_media,
        )
        return runner.run(plans, report, progress)


def _with_fps(sampling: SamplingParams, fps: float) -> SamplingParams:
    """`sampling` at `fps`, refused here so a bad rate fails before any file is read."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return replace(sampling, fps=fps)
