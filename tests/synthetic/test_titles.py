"""Titles are deterministic, distinct and never collide in name."""

from synthetic.titles import BACKGROUND_KINDS, make_titles


def test_same_seed_gives_identical_titles_and_a_stable_prefix():
    assert make_titles(5, seed=3) == make_titles(5, seed=3)
    assert make_titles(3, seed=3) == make_titles(5, seed=3)[:3]


def test_different_seeds_give_different_titles():
    assert [t.name for t in make_titles(4, seed=1)] != [t.name for t in make_titles(4, seed=2)]


def test_names_are_unique_and_styles_are_complete():
    titles = make_titles(40, seed=0)
    assert len({t.name for t in titles}) == 40
    for style in titles:
        assert 2 <= len(style.background_kinds) <= 3
        assert set(style.background_kinds) <= set(BACKGROUND_KINDS)
        assert {kind for kind, _ in style.locations} == set(style.background_kinds)
        assert len(style.cast) >= 3


def test_negative_count_is_rejected():
    import pytest

    with pytest.raises(ValueError, match=">= 0"):
        make_titles(-1)
