"""Episode names on the shapes releases, folders and screenshot tools really use.

The `before` column is what the regular expressions that `anitopy` replaced gave: the rows where
it differs are why it was replaced (a season lost, the end of a range taken, specials taken for
episodes); `guessit`, also tried, read `86 - 08` as episodes 86 and 8 and every OVA as a movie.
"""

from __future__ import annotations

import random
import string

import pytest

from index.ingest.episodes import parse_episode

# (name, parsed now, parsed before)
RELEASES = [
    ("[SubsPlease] Sousou no Frieren - 03 (1080p) [A1B2C3D4].mkv", "3", "3"),
    ("[Group] Title - 12 [1080p].mkv", "12", "12"),
    ("[Group] Title - 07 [1080p].mkv", "7", "7"),
    ("Show - 03.mkv", "3", "3"),
    ("Title - 07v2 [ABCD1234].mkv", "7", "7"),
    ("Show - 03 END.mkv", "3", "3"),
    ("[Group] Show - 1087 [1080p].mkv", "1087", "1087"),
    ("Title_-_13.5.mkv", "13.5", "13.5"),
    ("[Group] Steins;Gate 0 - 05 [1080p].mkv", "5", "5"),
    ("[Group] 86 - 08 [1080p].mkv", "8", "8"),
    ("[Group] Mob Psycho 100 II - 07 [1080p].mkv", "7", "7"),
    ("Re:Zero - 12.mkv", "12", "12"),
    ("Show.S01E03.1080p.mkv", "S1E3", "S1E3"),
    ("Title S01E05.mkv", "S1E5", "S1E5"),
    ("Show.2019.S02E10.1080p.WEB.x264.mkv", "S2E10", "S2E10"),
    ("Title.E07.mkv", "7", "7"),
    ("ep12.mp4", "12", "12"),
    ("第07話.mp4", "7", "7"),
    ("[Erai-raws] Shingeki no Kyojin S2 - 03 [1080p].mkv", "S2E3", "3"),
    ("[HorribleSubs] Show S3 - 11 [720p].mkv", "S3E11", "11"),
    ("Show 2nd Season - 04.mkv", "S2E4", "4"),
    ("Show 1x05.mkv", "S1E5", None),
    ("[Group] Show - 01-02 [BD 1080p].mkv", "1-2", "2"),
    ("[Group] Show - 01~02.mkv", "1-2", None),
    ("[Group] Show - OVA [DVD].mkv", "OVA", None),
    ("[Group] Show - OVA 2 [DVD].mkv", "OVA2", "2"),
    ("[Group] Show - SP1 [BD].mkv", "SP1", None),
    ("[Group] Show - Special 01.mkv", "SP1", "1"),
    ("[Group] Show - NCOP1 [BD].mkv", "NCOP1", None),
    ("[Group] Show The Movie (2019) [BD 1080p].mkv", None, None),
    ("Show [2019] (BD 1080p).mkv", None, None),
]
FOLDERS = [("Episode 5", "5"), ("Episode 02", "2"), ("ep01", "1"), ("01", "1"), ("title", None)]
SCREENSHOTS = [
    ("1.png", None),
    ("10.png", None),
    ("Screenshot 2024-05-01 at 10.23.45.png", None),
    ("v1.2.3.png", None),
    ("Show - 03 - 12.5s.png", "3"),
    ("Frieren ep3 1.png", "3"),
    ("[Sub] Show - 05 [1080p] 1.png", "5"),  # anitopy fails on the bare name: worked around
    ("[Group] Show - 05 [1080p]_snapshot_12.34_[2024.01.01_10.00.00].jpg", "5"),
]


@pytest.mark.parametrize(("name", "episode", "_before"), RELEASES)
def test_release_names(name: str, episode: str | None, _before: str | None) -> None:
    assert parse_episode(name) == episode


@pytest.mark.parametrize(("name", "episode"), FOLDERS)
def test_folder_names(name: str, episode: str | None) -> None:
    assert parse_episode(name) == episode


@pytest.mark.parametrize(("name", "episode"), SCREENSHOTS)
def test_screenshot_names_ignore_frame_numbers_clock_times_and_versions(
    name: str, episode: str | None
) -> None:
    assert parse_episode(name, bare_number=False) == episode


def test_names_the_library_cannot_parse_never_stop_an_add() -> None:
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + " -_.[]()~"
    names = ["".join(rng.choices(alphabet, k=rng.randint(1, 30))) for _ in range(3000)]
    episodes = [parse_episode(name) for name in names]  # anitopy raises on a few: none escape
    assert all(episode is None or isinstance(episode, str) for episode in episodes)
