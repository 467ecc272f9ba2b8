"""Contact sheets for eyeballing the generator: frames of a few titles, and every perturbation."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from synthetic.perturb import PERTURBATIONS
from synthetic.render import render_frame
from synthetic.shots import episode_shots
from synthetic.titles import make_titles

_CELL = (320, 180)


def _labelled(image: Image.Image, label: str) -> Image.Image:
    cell = Image.new("RGB", (_CELL[0], _CELL[1] + 16), (255, 255, 255))
    image = image.copy()
    image.thumbnail(_CELL)
    cell.paste(image, ((_CELL[0] - image.width) // 2, 16 + (_CELL[1] - image.height) // 2))
    ImageDraw.Draw(cell).text((4, 2), label, fill=(0, 0, 0))
    return cell


def _grid(cells: list[Image.Image], columns: int) -> Image.Image:
    rows = -(-len(cells) // columns)
    width, height = cells[0].size
    sheet = Image.new("RGB", (width * columns, height * rows), (255, 255, 255))
    for i, cell in enumerate(cells):
        sheet.paste(cell, ((i % columns) * width, (i // columns) * height))
    return sheet


def write_preview(out_dir: str | Path, titles: int = 6, shots_per_title: int = 4) -> list[Path]:
    """Writes titles.png (a row of shots per title) and perturbations.png; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cells = []
    for style in make_titles(titles):
        for shot in episode_shots(style, 1, 60.0)[:shots_per_title]:
            frame = render_frame(style, 1, shot.start + shot.duration / 2)
            cells.append(_labelled(frame, f"{style.name} s{shot.index} {shot.framing}"))
    titles_png = out / "titles.png"
    _grid(cells, shots_per_title).save(titles_png)
    base = render_frame(make_titles(1)[0], 1, 2.0)
    rng = random.Random(0)
    cells = [_labelled(base, "original")]
    cells += [_labelled(fn(base, rng), name) for name, fn in PERTURBATIONS.items()]
    perturb_png = out / "perturbations.png"
    _grid(cells, 5).save(perturb_png)
    return [titles_png, perturb_png]
