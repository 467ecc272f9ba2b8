"""bench/robustness_tables.py: the printed tables say what the scores hold."""

from __future__ import annotations

from bench.robustness_tables import print_calibration, print_table


def test_the_table_gives_each_row_and_the_mean_per_configuration(capsys) -> None:
    # recall, exact, sims, 2-pass, re-ranked, s/re-rank, views, s/detection, in scene, spans
    screen = (1.0, 0.5, [0.9, 0.8], 1.0, 0.5, 0.04, {"rectified": 2}, 0.03, 1.0, [2.0, 4.0])
    clean = (1.0, 1.0, [1.0, 1.0], 0.0, 0.0, 0.0, {"full": 2}, 0.0, 1.0, [3.0, 3.0])
    print_table({"default": {"clean": clean, "screen_photo": screen}})
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["screen_photo", "1.000", "/", "0.500"] for line in lines)
    assert any(line.split() == ["mean", "1.000", "/", "0.750"] for line in lines)
    assert any(line.split() == ["ms/re-ranked", "40.00"] for line in lines)
    assert any(line.split() == ["screen_photo", "rect", "2"] for line in lines)
    assert any(line.split() == ["mean", "1.000", "/", "3.0"] for line in lines)  # in scene


def test_calibration_says_what_each_threshold_keeps_and_rejects(capsys) -> None:
    print_calibration([0.9, 0.95, 0.99, 0.81], [0.5, 0.6, 0.83, 0.7])
    out = capsys.readouterr().out
    assert "min_similarity 0.82: keeps 0.750 of known, rejects 0.750 of unknown" in out
    assert "min_similarity 0.84: keeps 0.750 of known, rejects 1.000 of unknown" in out
