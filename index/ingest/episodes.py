"""Episode names: what a release's file or folder name says about its episode."""

from __future__ import annotations

import re
from pathlib import Path

from index.ingest.readers import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|【[^】]*】")
_SEASON_EPISODE = re.compile(r"\bS(\d{1,2})\s?E(\d{1,4})\b", re.IGNORECASE)
_NAMED = re.compile(r"(?:\b|_)(?:ep|episode|e)[\s._-]*(\d{1,4}(?:\.\d)?)(?:v\d)?(?:\b|_)", re.I)
_DASH = re.compile(r"\s-\s(\d{1,4}(?:\.\d)?)(?:v\d)?(?:\s|$)")
_CJK = re.compile(r"第\s*(\d{1,4})\s*[話话集]")
# A number after a dot that follows a digit ends a clock time or version ("at 10.23.45"), not an
# episode: screenshot tools name files that way.
_TRAILING = re.compile(r"(?:^|[\s_-]|(?<!\d)\.)(\d{1,3}(?:\.\d)?)(?:v\d)?\s*$")


def parse_episode(name: str, *, bare_number: bool = True) -> str | None:
    """Episode from a file or folder name: `S01E03` -> `S1E3`, `Show - 07`/`ep7`/`07` -> `7`.

    Bracketed tags (`[Group]`, `[1080p]`, `(BD)`) are dropped first so that resolutions, CRCs and
    years never read as episodes. `bare_number=False` ignores a lone trailing number: screenshots
    are often numbered `1.png, 2.png...`, which are frames, not episodes.
    """
    stem = (
        Path(name).stem
        if Path(name).suffix.lower() in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
        else name
    )
    stem = _BRACKETS.sub(" ", stem).replace("_", " ").strip()
    if match := _SEASON_EPISODE.search(stem):
        return f"S{int(match.group(1))}E{int(match.group(2))}"
    for pattern in (_NAMED, _DASH, _CJK, _TRAILING) if bare_number else (_NAMED, _DASH, _CJK):
        if match := pattern.search(stem):
            return _normalise_number(match.group(1))
    return None


def _normalise_number(text: str) -> str:
    whole, _, fraction = text.partition(".")
    return f"{int(whole)}.{fraction}" if fraction else str(int(whole))
