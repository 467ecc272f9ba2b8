"""An episode's shot list: where the cuts are and what each shot shows, fixed per episode."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from synthetic.characters import figure_heads
from synthetic.titles import TitleStyle

FRAMINGS = ("wide", "medium", "closeup", "empty")
_PLAN_CHUNK_S = 600.0


@dataclass(frozen=True, slots=True)
class Actor:
    """A cast member placed in a shot, in fractions of the shot canvas."""

    design: int  # index into TitleStyle.cast
    x: float  # horizontal centre, 0..1 of the canvas width
    height: float  # figure height as a fraction of the canvas height
    top: float  # top of the head, fraction of the canvas height
    mirrored: bool
    phase: float  # offsets the idle bob so actors do not move in lockstep
    speaking: bool


@dataclass(frozen=True, slots=True)
class Camera:
    """Centre and zoom of the visible window in the shot canvas (zoom 1 sees all of it)."""

    cx: float
    cy: float
    zoom: float


@dataclass(frozen=True, slots=True)
class Shot:
    index: int
    start: float
    duration: float
    location: int  # index into TitleStyle.locations
    view: float  # which slice of the location's panorama, 0..1
    framing: str
    actors: tuple[Actor, ...]
    cam_from: Camera
    cam_to: Camera
    subtitle: str | None

    @property
    def end(self) -> float:
        return self.start + self.duration


def _camera(rng: random.Random, zoom: float, near: Camera | None = None) -> Camera:
    slack = 0.5 - 0.5 / zoom  # how far the centre can move before the window leaves the canvas
    if near is None:
        return Camera(0.5 + rng.uniform(-slack, slack), 0.5 + rng.uniform(-slack, slack), zoom)
    # A slow pan that always moves a little: the end stays close to the start, inside the canvas.
    lo, hi = 0.5 - slack, 0.5 + slack
    dx = rng.choice((-1, 1)) * rng.uniform(0.035, 0.06)
    if not lo <= near.cx + dx <= hi:
        dx = -dx
    cx = min(hi, max(lo, near.cx + dx))
    cy = min(hi, max(lo, near.cy + rng.uniform(-0.025, 0.025)))
    return Camera(cx, cy, zoom)


def _camera_move(rng: random.Random) -> tuple[Camera, Camera]:
    if rng.random() < 0.7:  # most anime camera work slides over the art without zooming
        zoom = rng.uniform(1.12, 1.25)
        start = _camera(rng, zoom)
        return start, _camera(rng, zoom, start)
    zoom = rng.uniform(1.0, 1.15)
    start = _camera(rng, zoom)
    step = rng.uniform(0.03, 0.07)
    # Push in or pull out; a window wider than the canvas (zoom < 1) would show its edge.
    end_zoom = zoom + step if zoom - step < 1.0 or rng.random() < 0.5 else zoom - step
    return start, _camera(rng, end_zoom, start)


def _line(style: TitleStyle, rng: random.Random) -> str:
    words = [rng.choice(style.words) for _ in range(rng.randint(3, 7))]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", "!", "?", "...", "."))


def _actors(style: TitleStyle, rng: random.Random, framing: str, talk: bool) -> tuple[Actor, ...]:
    if framing == "empty":
        return ()
    count = {"wide": rng.randint(1, 3), "medium": rng.randint(1, 2), "closeup": 1}[framing]
    designs = rng.sample(range(len(style.cast)), min(count, len(style.cast)))
    # Framing is set by head size, so chibi and tall casts fill a closeup the same way.
    head, top = {"wide": (0.085, 0.9), "medium": (0.2, 0.1), "closeup": (0.45, 0.06)}[framing]
    height = head * figure_heads(style)
    slots = [(i + 0.5) / len(designs) for i in range(len(designs))]
    speaker = rng.randrange(len(designs)) if talk else -1
    actors = []
    for i, (design, slot) in enumerate(zip(designs, slots, strict=True)):
        scale = style.cast[design].height
        actors.append(
            Actor(
                design=design,
                x=min(0.8, max(0.2, slot + rng.uniform(-0.08, 0.08))),
                height=height * scale,
                # Wide shots stand everyone on the ground; closer shots line up the heads.
                top=top - height * scale if framing == "wide" else top + head * (1 - scale),
                mirrored=rng.random() < 0.5,
                phase=rng.uniform(0.0, 2.0 * math.pi),
                speaking=i == speaker,
            )
        )
    return tuple(actors)


@lru_cache(maxsize=64)
def _plan(style: TitleStyle, episode: int, horizon: float) -> tuple[Shot, ...]:
    # One sequential generator: a longer horizon extends a shorter plan without changing it.
    rng = random.Random(f"episode:{style.seed}:{episode}")
    shots: list[Shot] = []
    start, previous_location = 0.0, -1
    while start < horizon:
        duration = round(rng.uniform(3.0, 6.0), 2)
        location = rng.randrange(len(style.locations))
        if location == previous_location:  # a cut must change the picture, not just the camera
            location = (location + 1) % len(style.locations)
        framing = rng.choices(FRAMINGS, weights=(4, 4, 2, 1))[0]
        talk = framing != "empty" and rng.random() < 0.5
        cam_from, cam_to = _camera_move(rng)
        shots.append(
            Shot(
                index=len(shots),
                start=start,
                duration=duration,
                location=location,
                view=rng.random(),
                framing=framing,
                actors=_actors(style, rng, framing, talk),
                cam_from=cam_from,
                cam_to=cam_to,
                subtitle=_line(style, rng) if talk else None,
            )
        )
        start, previous_location = start + duration, location
    return tuple(shots)


def episode_shots(style: TitleStyle, episode: int, seconds: float) -> tuple[Shot, ...]:
    """The shots that cover [0, seconds) of an episode."""
    horizon = _PLAN_CHUNK_S * 2 ** max(0, math.ceil(math.log2(max(seconds, 1.0) / _PLAN_CHUNK_S)))
    return tuple(s for s in _plan(style, episode, horizon) if s.start < seconds)


def shot_at(style: TitleStyle, episode: int, t: float) -> Shot:
    """The shot on screen at time `t` seconds."""
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"time must be a finite number of seconds >= 0, got {t}")
    shots = episode_shots(style, episode, t + 1e-6)
    return shots[-1]
