"""Invented anime titles: a name, a palette, a cast and a drawing style, all from one seed."""

from __future__ import annotations

import colorsys
import random
from dataclasses import dataclass

RGB = tuple[int, int, int]

BACKGROUND_KINDS = ("sky", "room", "city", "forest")
HEAD_SHAPES = ("round", "oval", "pointed")
EYE_SHAPES = ("round", "tall", "narrow")
HAIR_STYLES = ("short", "spiky", "bob", "long", "twintails", "ponytail")

_FIRST = (
    "Sky", "Paper", "Crimson", "Velvet", "Clockwork", "Starfall", "Maple", "Silver", "Lantern",
    "Cobalt", "Hollow", "Amber", "Drifting", "Tin", "Midnight", "Glass", "Willow", "Ember",
    "Quiet", "Neon", "Saffron", "Polar", "Lucky", "Copper",
)  # fmt: skip
_SECOND = (
    "Lantern", "Harbor", "Comet", "Orchard", "Garden", "Signal", "Meadow", "Railway", "Tide",
    "Compass", "Bakery", "Kite", "Lighthouse", "Violin", "Crane", "Observatory", "Tram",
    "Festival", "Moth", "Canvas", "Radio", "Bell", "Summit", "Atlas",
)  # fmt: skip
_SUFFIX = (
    "Academy", "Chronicles", "Diaries", "Club", "Express", "Days", "Rhapsody", "Patrol",
    "Café", "Station", "Rangers", "Society", "Stories", "Detectives", "Overture", "Journey",
)  # fmt: skip

# Anime skies are stylised but mostly come in a few moods; titles jitter around one of them.
_SKY_MOODS: tuple[tuple[RGB, RGB], ...] = (
    ((70, 140, 235), (185, 225, 255)),  # clear day
    ((255, 120, 90), (255, 215, 150)),  # sunset
    ((80, 60, 150), (240, 150, 170)),  # dusk
    ((20, 30, 80), (70, 90, 160)),  # night
    ((40, 170, 170), (210, 245, 225)),  # teal morning
    ((200, 150, 40), (255, 235, 170)),  # golden hour
    ((150, 160, 175), (220, 222, 228)),  # overcast
)
_SKIN_TONES: tuple[RGB, ...] = (
    (255, 226, 204), (250, 214, 186), (236, 192, 160), (205, 150, 115), (255, 235, 220),
)  # fmt: skip
_OUTLINES: tuple[RGB, ...] = ((25, 20, 30), (60, 35, 30), (30, 30, 70), (10, 10, 10))
_TEXT_FILLS: tuple[RGB, ...] = ((255, 255, 255), (255, 240, 120), (200, 240, 255), (255, 210, 230))


@dataclass(frozen=True, slots=True)
class CharacterDesign:
    """One member of a title's cast; every shot of the title draws it the same way."""

    hair: RGB
    hair_style: str
    eyes: RGB
    outfit: RGB
    outfit_accent: RGB
    skin: RGB
    bottom: str  # "skirt" or "pants"
    height: float  # relative to the cast's tallest member


@dataclass(frozen=True, slots=True)
class SubtitleStyle:
    """How a title burns in its dialogue: size, colours, outline and placement."""

    size_frac: float  # font size as a fraction of the frame height
    fill: RGB
    stroke: RGB
    stroke_frac: float  # outline width as a fraction of the font size
    boxed: bool  # a translucent box behind the text instead of only an outline
    position: str  # "bottom" or "top"


@dataclass(frozen=True, slots=True)
class TitleStyle:
    """Everything that makes frames of one invented title look alike and unlike other titles."""

    name: str
    seed: int
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB
    wall: RGB
    floor: RGB
    building: RGB
    foliage: RGB
    accents: tuple[RGB, ...]
    grade: tuple[float, float, float]  # per-channel colour grade applied to backgrounds
    outline: RGB
    outline_weight: float  # character line width in 1/150ths of a head height
    head_shape: str
    eye_shape: str
    eye_size: float
    head_ratio: float  # figure height in heads: ~3 is chibi, ~6 is tall
    cast: tuple[CharacterDesign, ...]
    background_kinds: tuple[str, ...]
    locations: tuple[tuple[str, int], ...]  # (kind, layout seed): recurring sets of the title
    subtitle: SubtitleStyle
    words: tuple[str, ...]  # the vocabulary its dialogue is made of


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def shade(color: RGB, factor: float) -> RGB:
    """`color` scaled by `factor` (darker below 1, lighter above), clipped to 0..255."""
    return tuple(min(255, max(0, round(c * factor))) for c in color)  # type: ignore[return-value]


def _jitter(color: RGB, rng: random.Random, amount: int) -> RGB:
    return tuple(min(255, max(0, c + rng.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def _unique_name(rng: random.Random, taken: set[str]) -> str:
    for _ in range(1000):
        first, second = rng.choice(_FIRST), rng.choice(_SECOND)
        if first == second:
            continue
        pattern = rng.randrange(3)
        if pattern == 0:
            name = f"{first} {second} {rng.choice(_SUFFIX)}"
        elif pattern == 1:
            name = f"The {second} of {first} {rng.choice(_SECOND)}s"
        else:
            name = f"{first} {second}"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("ran out of distinct title names; ask for fewer titles")


def _make_cast(rng: random.Random, hue: float, saturation: float) -> tuple[CharacterDesign, ...]:
    cast = []
    for _ in range(rng.randint(3, 4)):
        hair_hue = rng.choice((hue, hue + 0.5, rng.random(), 0.08, 0.1))
        hair = _hsv(hair_hue, rng.uniform(0.3, 0.9), rng.uniform(0.25, 0.95))
        cast.append(
            CharacterDesign(
                hair=hair,
                hair_style=rng.choice(HAIR_STYLES),
                eyes=_hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.45, 0.85)),
                outfit=_hsv(hue + rng.uniform(-0.15, 0.15), saturation, rng.uniform(0.35, 0.9)),
                outfit_accent=_hsv(hue + 0.5 + rng.uniform(-0.1, 0.1), 0.8, 0.85),
                skin=rng.choice(_SKIN_TONES),
                bottom=rng.choice(("skirt", "pants")),
                height=rng.uniform(0.86, 1.0),
            )
        )
    return tuple(cast)


def _make_words(rng: random.Random) -> tuple[str, ...]:
    syllables = ("ka", "ri", "mo", "to", "su", "na", "yo", "ha", "chi", "ne", "ro", "mi", "ta")
    common = ("we", "can", "not", "the", "you", "I", "will", "go", "wait", "why", "it", "is")
    invented = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) for _ in range(8)]
    return common + tuple(w.capitalize() for w in invented[:4]) + tuple(invented[4:])


def make_title(index: int, seed: int, taken: set[str] | None = None) -> TitleStyle:
    """The index-th title for a seed; `taken` keeps names unique within one `make_titles` call."""
    rng = random.Random(f"title:{seed}:{index}")
    # Golden-ratio hue steps keep neighbouring titles' dominant colours far apart.
    hue = (rng.random() * 0.1 + index * 0.618034) % 1.0
    saturation = rng.choice((0.35, 0.55, 0.75, 0.9))
    top, bottom = _SKY_MOODS[(index + rng.randrange(len(_SKY_MOODS))) % len(_SKY_MOODS)]
    kinds = list(BACKGROUND_KINDS)
    rng.shuffle(kinds)
    kinds = kinds[: rng.randint(2, 3)]
    locations = tuple((rng.choice(kinds), rng.randrange(1 << 30)) for _ in range(rng.randint(5, 7)))
    # Every chosen kind appears at least once so the title's look spans its own kinds.
    locations = tuple(
        (kinds[i], s) if i < len(kinds) else (k, s) for i, (k, s) in enumerate(locations)
    )
    return TitleStyle(
        name=_unique_name(rng, taken if taken is not None else set()),
        seed=rng.randrange(1 << 30),
        sky_top=_jitter(top, rng, 25),
        sky_bottom=_jitter(bottom, rng, 20),
        ground=_hsv(hue + rng.uniform(0.15, 0.35), saturation * 0.8, rng.uniform(0.45, 0.75)),
        wall=_hsv(hue + rng.uniform(-0.08, 0.08), saturation * 0.35, rng.uniform(0.7, 0.95)),
        floor=_hsv(hue + rng.uniform(0.05, 0.12), saturation * 0.6, rng.uniform(0.35, 0.6)),
        building=_hsv(hue + rng.uniform(0.4, 0.6), saturation * 0.5, rng.uniform(0.3, 0.6)),
        foliage=_hsv(rng.uniform(0.22, 0.42), rng.uniform(0.4, 0.85), rng.uniform(0.3, 0.65)),
        accents=tuple(_hsv(hue + k * 0.13 + rng.uniform(-0.03, 0.03), 0.7, 0.85) for k in range(5)),
        grade=tuple(rng.uniform(0.85, 1.08) for _ in range(3)),  # type: ignore[arg-type]
        outline=rng.choice(_OUTLINES),
        outline_weight=rng.choice((2.5, 4.0, 6.0, 8.0)),
        head_shape=rng.choice(HEAD_SHAPES),
        eye_shape=rng.choice(EYE_SHAPES),
        eye_size=rng.uniform(0.8, 1.2),
        head_ratio=rng.choice((3.0, 4.2, 5.5, 6.2)),
        cast=_make_cast(rng, hue, saturation),
        background_kinds=tuple(kinds),
        locations=locations,
        subtitle=SubtitleStyle(
            size_frac=rng.uniform(0.055, 0.075),
            fill=rng.choice(_TEXT_FILLS),
            stroke=rng.choice(((0, 0, 0), (20, 20, 60), (60, 20, 40))),
            stroke_frac=rng.uniform(0.08, 0.14),
            boxed=rng.random() < 0.3,
            position="top" if rng.random() < 0.15 else "bottom",
        ),
        words=_make_words(rng),
    )


def make_titles(n: int, seed: int = 0) -> list[TitleStyle]:
    """`n` distinct invented titles; the same (n, seed) always gives the same titles."""
    if n < 0:
        raise ValueError(f"number of titles must be >= 0, got {n}")
    taken: set[str] = set()
    return [make_title(i, seed, taken) for i in range(n)]
