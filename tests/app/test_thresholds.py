"""Decision thresholds: a setting wins over the catalog's calibration, which wins over defaults;
/health shows each one in use and where it came from."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from index.query.calibrate import TITLE_GATE, stored_thresholds
from index.query.params import IdentifyParams
from tests.app.conftest import make_settings


def test_settings_then_catalog_then_defaults(tmp_path: Path, make_services) -> None:
    defaults = IdentifyParams()
    plain = make_services(make_settings(tmp_path / "a"))
    assert set(plain.threshold_sources.values()) == {"default"}
    assert plain.identifier.params.min_title_similarity == defaults.min_title_similarity

    # A calibration from before the colour head: its title thresholds no longer apply.
    plain.store.set_calibration({"thresholds": {"min_title_similarity": 0.83}})
    assert stored_thresholds(plain.store.calibration()) == {}
    # One for the palette gate alone (before the blend), or before the grey-world palette: the same.
    for before in ("palette", "palette+confidence", "palette|grey+confidence"):
        plain.store.set_calibration(
            {"thresholds": {"min_title_similarity": 0.63}, "measured": {"title_gate": before}}
        )
        assert stored_thresholds(plain.store.calibration()) == {}
    calibrated = {"min_similarity": 0.9, "min_title_confidence": 0.5}
    measured = {"title_gate": TITLE_GATE}
    plain.store.set_calibration({"thresholds": calibrated, "measured": measured})
    settings = make_settings(tmp_path / "a", min_similarity=0.7)
    plain.close()
    services = make_services(settings)
    params = services.identifier.params
    assert (params.min_similarity, params.min_title_confidence) == (0.7, 0.5)
    assert params.min_margin == defaults.min_margin
    assert services.threshold_sources == {
        "min_similarity": "settings",
        "min_margin": "default",
        "min_title_confidence": "catalog",
        "min_title_similarity": "default",
    }
    with TestClient(create_app(settings, services)) as client:
        services.identifier.title_head.wait(60)  # the start's refit of the (empty) catalog
        health = client.get("/health").json()
    assert health["thresholds"]["min_similarity"] == {"value": 0.7, "source": "settings"}
    assert health["thresholds"]["min_title_confidence"] == {"value": 0.5, "source": "catalog"}
    assert health["title_head"] == {"current": True, "titles": 0}
