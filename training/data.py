"""Training data: labelled frames from a folder tree or the catalog, a leak-free split, samplers."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
CATALOG_FRAMES_DIR = "catalog-frames"  # the catalog snapshot inside a run dir
_MAX_NAME_BYTES = 180  # well under NAME_MAX (255 bytes) once a disambiguating suffix is added


class DataError(ValueError):
    """The training data cannot be used as given (missing folder, too few titles, bad image)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled frame: a file on disk or thumbnail bytes from the catalog."""

    title: str
    source: str | None  # episode/video it came from; None when unknown (then split by file)
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else f"<{self.title}:{self.source}>"

    def load(self) -> Image.Image:
        """Decode to RGB; a broken file raises DataError naming it, not a bare PIL error."""
        try:
            if self.data is not None:
                image = Image.open(io.BytesIO(self.data))
            elif self.path is not None:
                image = Image.open(self.path)
            else:
                raise DataError("sample has neither a path nor image bytes")
            return image.convert("RGB")
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise DataError(f"cannot decode training image {self.name}: {exc}") from exc


def scan_image_tree(root: Path) -> list[Sample]:
    """Read `root/TITLE/[EPISODE/]*.{jpg,png,webp}`; an EPISODE folder becomes the source."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"training data folder not found: {root}")
    samples: list[Sample] = []
    for title_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(title_dir.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            relative = path.relative_to(title_dir)
            source = f"{title_dir.name}/{relative.parts[0]}" if len(relative.parts) > 1 else None
            samples.append(Sample(title=title_dir.name, source=source, path=path))
    if not samples:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}/TITLE/[EPISODE/]")
    return samples


def samples_from_frames(frames: Iterable[tuple[bytes, str, str | None]]) -> list[Sample]:
    """Adapt catalog frames, given as (preview bytes, title, source id) triples."""
    return [
        Sample(title=title, source=None if source is None else f"{title}/{source}", data=thumbnail)
        for thumbnail, title, source in frames
    ]


class CatalogFrame(Protocol):
    """What training needs of a catalog frame (`index.types.LabelledFrame` has it), so
    `training` takes plain records and never imports `index`."""

    @property
    def frame_id(self) -> int: ...
    @property
    def title_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def source_id(self) -> int: ...
    @property
    def episode(self) -> str | None: ...
    @property
    def thumbnail(self) -> bytes: ...


def _folder_name(text: str) -> str:
    """`text` as one path component that `scan_image_tree` reads back as the same label: slashes
    become look-alike U+2215 (".hack//Sign", "Fate/Zero"), control characters are dropped, a
    leading dot (hidden, skipped by the scan) is made full-width, long names are cut short."""
    name = "".join(ch for ch in text.replace("/", "\u2215") if ch.isprintable() or ch == " ")
    name = name.strip()
    if name.startswith("."):
        name = "\uff0e" + name[1:]
    if not name:
        name = "untitled"
    if len(name.encode()) > _MAX_NAME_BYTES:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        name = name.encode()[:_MAX_NAME_BYTES].decode(errors="ignore").rstrip() + f"~{digest}"
    return name


def _source_folder(frame: CatalogFrame) -> str:
    """Frames of one episode share a folder even across sources (a video and screenshots of
    episode 3 are the same shots: splitting them apart would leak); without an episode each
    source is its own folder."""
    if frame.episode is not None and frame.episode.strip():
        return _folder_name(f"ep {frame.episode.strip()}")
    return f"source {frame.source_id}"


def export_catalog_frames(
    batches: Iterable[Sequence[CatalogFrame]],
    root: Path,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write catalog previews as `root/TITLE/EPISODE-or-SOURCE/<frame id>.webp` (`.jpg` from an
    older catalog), the layout `scan_image_tree` and `split_samples` read, and return `root`.

    A folder snapshot (not bytes in memory) keeps memory flat on a large catalog and lets a run
    resume and be evaluated on exactly the frames it was split from, whatever is added to the
    catalog later. Written to `root.partial` and renamed, so `root` is never half-written.
    Title labels are the folder names: the catalog name, except for characters a folder name
    cannot hold (see `_folder_name`).
    """
    root = Path(root)
    if root.exists():
        raise DataError(f"{root} already exists: choose a new run dir, or delete it to re-export")
    partial = root.with_name(root.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # left by an interrupted export
    partial.mkdir(parents=True)
    title_dirs: dict[int, str] = {}
    taken: set[str] = set()
    made: set[Path] = set()
    written = 0
    for batch in batches:
        for frame in batch:
            if frame.title_id not in title_dirs:
                name = _folder_name(frame.title)
                if name.casefold() in taken:  # two names that only differed in unsafe chars
                    name = f"{name} #{frame.title_id}"
                taken.add(name.casefold())
                title_dirs[frame.title_id] = name
            folder = partial / title_dirs[frame.title_id] / _source_folder(frame)
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            # Zero-padded ids sort in frame order, which keeps file-block splits contiguous.
            suffix = ".jpg" if frame.thumbnail[:2] == b"\xff\xd8" else ".webp"
            (folder / f"{frame.frame_id:012d}{suffix}").write_bytes(frame.thumbnail)
            written += 1
        if progress is not None:
            progress(written)
    if written == 0:
        shutil.rmtree(partial)
        raise DataError("the catalog has no frames to train on: add titles with `index add`")
    partial.rename(root)
    return root


def samples_from_catalog(batches: Iterable[Sequence[CatalogFrame]], root: Path) -> list[Sample]:
    """Export catalog frames to `root` and read them back as samples split by episode/source."""
    return scan_image_tree(export_catalog_frames(batches, root))


@dataclass(frozen=True)
class Split:
    """Train/validation/test samples and how each title was divided (for the report)."""

    titles: tuple[str, ...]
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    mode: dict[str, str]  # title -> "source" (whole episodes held out) or "file-block"

    def labels(self, samples: Sequence[Sample]) -> np.ndarray:
        index = {title: i for i, title in enumerate(self.titles)}
        return np.array([index[s.title] for s in samples], dtype=np.int64)

    def report(self) -> dict[str, object]:
        def counts(samples: Sequence[Sample]) -> dict[str, int]:
            per_title: dict[str, int] = defaultdict(int)
            for sample in samples:
                per_title[sample.title] += 1
            return dict(per_title)

        def sources(samples: Sequence[Sample]) -> int:
            return len({s.source or s.name for s in samples})

        parts = {"train": self.train, "val": self.val, "test": self.test}
        return {
            "titles": list(self.titles),
            "mode": self.mode,
            "frames": {name: len(part) for name, part in parts.items()},
            "sources": {name: sources(part) for name, part in parts.items()},
            "frames_per_title": {name: counts(part) for name, part in parts.items()},
        }


def _tail_blocks(
    items: list[Sample], val_fraction: float, test_fraction: float
) -> tuple[list[Sample], list[Sample], list[Sample]]:
    """Contiguous blocks in frame order, so held-out frames are not next to training frames."""
    n = len(items)
    n_test = max(1, round(n * test_fraction)) if n >= 3 and test_fraction > 0 else 0
    n_val = max(1, round(n * val_fraction)) if n - n_test >= 3 and val_fraction > 0 else 0
    cut_val, cut_test = n - n_test - n_val, n - n_test
    return items[:cut_val], items[cut_val:cut_test], items[cut_test:]


def split_samples(
    samples: Sequence[Sample],
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Split:
    """Hold out whole sources (episodes/videos) per title when it has >= 2, else file blocks.

    Splitting by source keeps test frames from being near-duplicates of training frames from the
    same shot. A title with two sources gives one to test and takes validation from the tail of
    the other; a title with no source information is cut into contiguous blocks by file order.
    """
    if not 0 <= val_fraction < 1 or not 0 < test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise DataError(
            f"need 0 <= val_fraction, 0 < test_fraction and val+test < 1; got {val_fraction}, "
            f"{test_fraction}"
        )
    by_title: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_title[sample.title].append(sample)
    if len(by_title) < 2:
        raise DataError(f"need at least 2 titles to train and evaluate, found {len(by_title)}")
    train: list[Sample] = []
    val: list[Sample] = []
    test: list[Sample] = []
    mode: dict[str, str] = {}
    for title in sorted(by_title):
        items = sorted(by_title[title], key=lambda s: (s.source or "", s.name))
        sources = sorted({s.source for s in items if s.source is not None})
        if len(sources) >= 2 and all(s.source is not None for s in items):
            random.Random(f"{seed}:{title}").shuffle(sources)
            n_test = max(1, round(len(sources) * test_fraction))
            room = len(sources) - n_test >= 2 and val_fraction > 0  # 0: every other one trains
            n_val = max(1, round(len(sources) * val_fraction)) if room else 0
            held_test, held_val = set(sources[:n_test]), set(sources[n_test : n_test + n_val])
            test += [s for s in items if s.source in held_test]
            val += [s for s in items if s.source in held_val]
            rest = [s for s in items if s.source not in held_test | held_val]
            if n_val == 0 and val_fraction > 0:  # validate on the tail of each training source
                for source in sorted({s.source for s in rest}, key=str):
                    part, tail, _ = _tail_blocks(
                        [s for s in rest if s.source == source], val_fraction, 0.0
                    )
                    train += part
                    val += tail
            else:
                train += rest
            mode[title] = "source"
        else:
            part_train, part_val, part_test = _tail_blocks(items, val_fraction, test_fraction)
            train += part_train
            val += part_val
            test += part_test
            mode[title] = "file-block"
    titles = tuple(sorted(by_title))
    missing = [t for t in titles if not any(s.title == t for s in train)]
    if missing:
        raise DataError(f"titles with too few frames to train on: {', '.join(missing)}")
    return Split(titles=titles, train=train, val=val, test=test, mode=mode)


def _indices_by_label(labels: Sequence[int]) -> dict[int, np.ndarray]:
    """Sample indices of each label, labels in ascending order."""
    label_arr = np.asarray(labels)
    return {int(k): np.flatnonzero(label_arr == k) for k in np.unique(label_arr)}


class PairSampler:
    """Streams balanced index pairs: Y=0 same title (similar), Y=1 different titles (dissimilar).

    Titles are drawn uniformly, so a title with many frames does not dominate. With
    `cross_source_positives`, a positive's partner comes from another source of the same title
    when one exists: "the same show, another scene" is the hard positive a real query is.
    No table of all pairs is ever built.
    """

    def __init__(
        self,
        labels: Sequence[int],
        sources: Sequence[str | None],
        positive_fraction: float = 0.5,
        cross_source_positives: bool = True,
    ) -> None:
        if len(labels) != len(sources):
            raise ValueError("labels and sources must have the same length")
        if not 0 <= positive_fraction <= 1:
            raise ValueError(f"positive_fraction must be in [0, 1], got {positive_fraction}")
        self.positive_fraction = positive_fraction
        self.cross_source_positives = cross_source_positives
        self._by_label = _indices_by_label(labels)
        if len(self._by_label) < 2:
            raise DataError("pairs need at least 2 titles")
        self._sources = np.array([s if s is not None else f"#{i}" for i, s in enumerate(sources)])
        self._labels = np.array(sorted(self._by_label))
        self._positive_labels = np.array([k for k, v in self._by_label.items() if len(v) >= 2])
        if len(self._positive_labels) == 0 and positive_fraction > 0:
            raise DataError("positive pairs need a title with at least 2 frames")

    def _partner(self, anchor: int, label: int, rng: np.random.Generator) -> int:
        members = self._by_label[label]
        others = members[members != anchor]
        if self.cross_source_positives:
            elsewhere = others[self._sources[others] != self._sources[anchor]]
            if len(elsewhere):
                others = elsewhere
        return int(rng.choice(others))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first indices, second indices, Y float32) of n pairs in random order."""
        n_pos = round(n * self.positive_fraction)
        first, second = np.empty(n, np.int64), np.empty(n, np.int64)
        y = np.empty(n, np.float32)
        for i in range(n):
            if i < n_pos:
                label = int(rng.choice(self._positive_labels))
                first[i] = rng.choice(self._by_label[label])
                second[i] = self._partner(int(first[i]), label, rng)
                y[i] = 0.0
            else:
                label_a, label_b = rng.choice(self._labels, size=2, replace=False)
                first[i] = rng.choice(self._by_label[int(label_a)])
                second[i] = rng.choice(self._by_label[int(label_b)])
                y[i] = 1.0
        order = rng.permutation(n)
        return first[order], second[order], y[order]


class PKSampler:
    """P titles x K frames per batch: each batch holds positives and negatives to mine in-batch."""

    def __init__(self, labels: Sequence[int], titles_per_batch: int, frames_per_title: int) -> None:
        if titles_per_batch < 2 or frames_per_title < 2:
            raise ValueError("P x K batches need P >= 2 titles and K >= 2 frames per title")
        self._by_label = _indices_by_label(labels)
        if len(self._by_label) < 2:
            raise DataError("P x K batches need at least 2 titles")
        self.p = min(titles_per_batch, len(self._by_label))
        self.k = frames_per_title

    @property
    def batch_size(self) -> int:
        return self.p * self.k

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Indices of one batch, title-major; a title with < K frames repeats some."""
        chosen = rng.choice(np.array(sorted(self._by_label)), size=self.p, replace=False)
        picks = []
        for label in chosen:
            members = self._by_label[int(label)]
            picks.append(rng.choice(members, size=self.k, replace=len(members) < self.k))
        return np.concatenate(picks)
