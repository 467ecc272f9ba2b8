"""`python -m synthetic preview` writes the two contact sheets."""

from PIL import Image

from synthetic.__main__ import main


def test_preview_writes_contact_sheets(tmp_path, capsys):
    assert main(["preview", str(tmp_path), "--titles", "2"]) == 0
    titles, perturbations = (
        Image.open(tmp_path / "titles.png"),
        Image.open(tmp_path / "perturbations.png"),
    )
    assert (
        titles.width == 4 * 320 and titles.height == 2 * 196
    )  # 2 titles x 4 shots, labelled cells
    assert perturbations.height == 2 * 196  # original + 9 perturbations, 5 per row
    assert "titles.png" in capsys.readouterr().out
