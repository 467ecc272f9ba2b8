"""Shot-aware sampling: a video cut into stretches that look alike, one kept frame for each.

Every decoded frame is reduced to a tiny grey thumbnail. A stretch ends at a cut (a jump between
consecutive frames) or once the picture has moved `change` away from the stretch's kept frame;
the kept frame is the first one `change` away from the stretch's start, so in a pan it sits in
the middle and stands for the time on both sides of it. A static shot is one frame however long
it lasts, and a hold that then starts to move is a stretch of its own, ending where it moved.
Why this detector and these levels: docs/scenes.md.
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
    the difference between consecutive frames that marks a new shot; under `still` a frame has
    not moved at all. A stretch that has moved (it has a kept frame of its own) lasts at least
    `min_length` seconds, which caps the frames kept per second of fast action; one that has not
    closes at a cut at once, its first frame standing for it, unless it is that one frame only,
    so a flash or a cut on every frame cannot keep every frame either.
    """

    def __init__(self, change: float, cut: float, still: float, min_length: float) -> None:
        self.change = change
        self.cut = cut
        self.still = still
        self.min_length = min_length
        self._start: _Candidate[F] | None = None  # the open stretch's first frame
        self._moving: _Candidate[F] | None = None  # its first frame that is not still
        self._kept: _Candidate[F] | None = None  # its kept frame, once one is chosen
        self._previous: np.ndarray | None = None
        self._frames = 0  # in the open stretch

    def push(self, frame: F, time: float, thumb: np.ndarray) -> Stretch[F] | None:
        """Take the next frame; the stretch it closed, if it starts a new one."""
        previous, self._previous = self._previous, thumb
        start = self._start
        if start is None or previous is None:
            self._open(_Candidate(frame, time, thumb))
            return None
        kept = self._kept
        cut = _difference(thumb, previous) >= self.cut
        if time - start.time >= self.min_length:
            moved = kept is not None and _difference(thumb, kept.thumb) >= self.change
        else:
            moved = False
            cut = cut and kept is None and self._frames > 1
        if moved or cut:
            closed = self._close(time)
            self._open(_Candidate(frame, time, thumb))
            return closed
        self._frames += 1
        if kept is None:
            return self._choose(_Candidate(frame, time, thumb), start)
        return None

    def finish(self, end: float) -> Stretch[F] | None:
        """The last stretch, standing until `end`; None when no frame came."""
        if self._start is None:
            return None
        return self._close(end)

    def _choose(self, frame: _Candidate[F], start: _Candidate[F]) -> Stretch[F] | None:
        """Keep `frame` if it is `change` away from the start, unless the stretch held still
        until then: the hold closes where it began to move, and a new stretch starts there."""
        moved = _difference(frame.thumb, start.thumb)
        if moved >= self.still and self._moving is None:
            self._moving = frame
        if moved < self.change:
            return None
        moving = self._moving
        if moving is not None and moving.time - start.time >= self.min_length:
            closed = self._close(moving.time)
            self._open(moving)
            self._choose(frame, moving)
            return closed
        self._kept = frame
        return None

    def _open(self, start: _Candidate[F]) -> None:
        self._start = start
        self._frames = 1

    def _close(self, end: float) -> Stretch[F]:
        assert self._start is not None
        kept = self._kept or self._start  # no frame moved away: the first stands for it all
        self._kept = self._moving = None
        return Stretch(kept.frame, kept.time, self._start.time, max(end, kept.time))


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())
