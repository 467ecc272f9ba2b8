"""What `bench/robustness.py` prints: exact frame, in scene, second passes, re-ranks, views."""

from __future__ import annotations

import numpy as np

# recall@1, exact frame, best sims, 2-pass share, re-ranked share, re-rank seconds per re-ranked,
# answers per view, inner-picture detection seconds per detection, in scene, answers' from-to spans
Score = tuple[
    float, float, list[float], float, float, float, dict[str, int], float, float, list[float]
]


def print_table(results: dict[str, dict[str, Score]]) -> None:
    names = list(next(iter(results.values())))
    print("\nrecall@1 (title) / exact frame (title, episode, |t| <= 0.5 s)")
    print(f"{'perturbation':<20}" + "".join(f"{config:>26}" for config in results))
    for name in names + ["mean"]:
        cells = []
        for per in results.values():
            if name == "mean":
                recall = float(np.mean([v[0] for v in per.values()]))
                exact = float(np.mean([v[1] for v in per.values()]))
            else:
                recall, exact = per[name][:2]
            cells.append(f"{recall:.3f} / {exact:.3f}")
        print(f"{name:<20}" + "".join(f"{cell:>26}" for cell in cells))
    _print_scenes(results, names)
    shares = [float(np.mean([v[3] for v in per.values()])) for per in results.values()]
    print(f"{'second pass':<20}" + "".join(f"{share:>26.3f}" for share in shares))
    for name in names:
        cells = [f"{per[name][3]:.3f}" for per in results.values()]
        print(f"{'  ' + name:<20}" + "".join(f"{cell:>26}" for cell in cells))
    shares = [float(np.mean([v[4] for v in per.values()])) for per in results.values()]
    print(f"{'re-ranked':<20}" + "".join(f"{share:>26.3f}" for share in shares))
    for name in names:
        cells = [f"{per[name][4]:.3f}" for per in results.values()]
        print(f"{'  ' + name:<20}" + "".join(f"{cell:>26}" for cell in cells))
    costs = []
    for per in results.values():
        runs = [(v[4], v[5]) for v in per.values() if v[4] > 0]
        weight = sum(share for share, _ in runs)
        costs.append(1000 * sum(s * ms for s, ms in runs) / weight if weight else 0.0)
    print(f"{'ms/re-ranked':<20}" + "".join(f"{ms:>26.2f}" for ms in costs))
    costs = []
    for per in results.values():
        runs = [v[7] for v in per.values() if v[7] > 0]
        costs.append(1000 * float(np.mean(runs)) if runs else 0.0)
    print(f"{'ms/detection':<20}" + "".join(f"{ms:>26.2f}" for ms in costs))
    print("answers by view (`Match.view`)")
    for name in names:
        cells = [_views(per[name][6]) for per in results.values()]
        print(f"{'  ' + name:<20}" + "".join(f" {cell:>25}" for cell in cells))  # never run on


def _print_scenes(results: dict[str, dict[str, Score]], names: list[str]) -> None:
    """The answer as the product gives it: the query's moment inside the answer's scene (its
    from-to, `Match.start`/`end`), beside the median length of those from-to spans."""
    print("in scene (title, episode, from <= t <= to) / median from-to length (s)")
    for name in names + ["mean"]:
        cells = []
        for per in results.values():
            rows = list(per.values()) if name == "mean" else [per[name]]
            share = float(np.mean([v[8] for v in rows]))
            spans = [span for v in rows for span in v[9]]
            cells.append(f"{share:.3f} / {float(np.median(spans)) if spans else 0.0:.1f}")
        print(f"{name:<20}" + "".join(f"{cell:>26}" for cell in cells))


def _views(counts: dict[str, int]) -> str:
    """`{"full": 12, "inner": 3}` as "full 12 inne 3": each view named by 4 letters."""
    return " ".join(f"{name[:4]} {count}" for name, count in sorted(counts.items()))


def print_calibration(known: list[float], unknown: list[float]) -> None:
    known_a, unknown_a = np.array(known), np.array(unknown)
    print(f"\nbest similarity, known perturbed queries (n={len(known_a)}): "
          f"p1 {np.percentile(known_a, 1):.3f} p5 {np.percentile(known_a, 5):.3f} "
          f"median {np.median(known_a):.3f}")  # fmt: skip
    print(f"best similarity, unknown images (n={len(unknown_a)}): median "
          f"{np.median(unknown_a):.3f} p95 {np.percentile(unknown_a, 95):.3f} "
          f"max {unknown_a.max():.3f}")  # fmt: skip
    for threshold in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88):
        kept = (known_a >= threshold).mean()
        rejected = (unknown_a < threshold).mean()
        print(f"  min_similarity {threshold:.2f}: keeps {kept:.3f} of known, "
              f"rejects {rejected:.3f} of unknown")  # fmt: skip
