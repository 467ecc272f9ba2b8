"""Shot-aware sampling: a video cut into stretches that look alike, one kept frame for each.

Every decoded frame is reduced to a tiny grey thumbnail. A stretch ends at a cut (a jump between
consecutive frames) or once the picture has moved `change` away from the stretch's kept frame;
the kept frame is the first one `change` away from the stretch's start, so in a pan it sits in
the middle and stands for the time on both sides of it, and a static shot is one frame however
long it lasts. Why this detector and these levels: docs/scenes.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

# Decoded frames are compared as grey thumbnails this size (mean absolute difference, 0..255).
THUMB_SIZE = (16, 9)

F = TypeVar("F")  # a decoded frame, held (not converted) until its stretch is known


@dataclass(frozen=True, slots=True)
class Stretch(Generic[F]):
    """The time [start, end) that `frame` (shown at `time`) stands for."""

    frame: F
    time: float
    start: float
    end: float


@dataclass(slots=True)
class _Candidate(Generic[F]):
    frame: F
    time: float
    thumb: np.ndarray


class StretchFinder(Generic[F]):
    """Fed decoded frames in time order; hands back each stretch as soon as it is closed.

    `change` is the grey difference at which a frame no longer looks like the kept one; `cut`
    the difference between consecutive frames that marks a new shot. No stretch closes before it
    lasts `min_length` seconds, which caps the frames kept per second of fast action, flashes
    and quick cuts (a shot shorter than that joins the next one's stretch).
    """

    def __init__(self, change: float, cut: float, min_length: float) -> None:
        self.change = change
        self.cut = cut
        self.min_length = min_length
        self._start: _Candidate[F] | None = None  # the open stretch's first frame
        self._kept: _Candidate[F] | None = None  # its kept frame, once one is chosen
        self._previous: np.ndarray | None = None

    def push(self, frame: F, time: float, thumb: np.ndarray) -> Stretch[F] | None:
        """Take the next frame; the stretch it closed, if it starts a new one."""
        previous, self._previous = self._previous, thumb
        start = self._start
        if start is None or previous is None:
            self._start = _Candidate(frame, time, thumb)
            return None
        kept = self._kept
        if time - start.time >= self.min_length:
            moved = kept is not None and _difference(thumb, kept.thumb) >= self.change
            if moved or _difference(thumb, previous) >= self.cut:
                closed = self._close(time)
                self._start = _Candidate(frame, time, thumb)
                return closed
        if kept is None and _difference(thumb, start.thumb) >= self.change:
            self._kept = _Candidate(frame, time, thumb)
        return None

    def finish(self, end: float) -> Stretch[F] | None:
        """The last stretch, standing until `end`; None when no frame came."""
        if self._start is None:
            return None
        return self._close(end)

    def _close(self, end: float) -> Stretch[F]:
        assert self._start is not None
        kept = self._kept or self._start  # no frame moved away: the first stands for it all
        self._kept = None
        return Stretch(kept.frame, kept.time, self._start.time, max(end, kept.time))


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())
