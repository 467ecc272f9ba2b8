"""docker-compose.yml: valid against the Compose Specification, and consistent with the image."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
import yaml

from tests.deploy.parsing import ENV_NAME, ROOT, dockerfile_stages, settings_env_names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def image_env() -> dict[str, str]:
    final = dockerfile_stages((ROOT / "Dockerfile").read_text())[-1]
    env: dict[str, str] = {}
    for instruction, arguments in final:
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in arguments.split())
    return env


@pytest.mark.slow
def test_valid_against_the_compose_spec_schema(compose: dict) -> None:
    # check-jsonschema vendors the official compose-spec schema; no network needed.
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(compose, schema)


@pytest.mark.slow
def test_schema_rejects_a_broken_file(compose: dict) -> None:
    """The validation above can fail: a misspelt key is caught."""
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(schema_file.read_text()))


def test_api_service_builds_this_repo_and_keeps_the_catalog(compose: dict, image_env) -> None:
    api = compose["services"]["api"]
    assert api["build"] in (".", {"context": "."})
    assert api["restart"] in ("unless-stopped", "always")
    volume, target = api["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"], "the catalog must live on a named volume"
    assert target == image_env["SHAZAM_DATA_DIR"]
    published = [port.rsplit(":", 1)[1] for port in api["ports"]]
    assert image_env["SHAZAM_PORT"] in published


def test_healthcheck_hits_health(compose: dict, image_env) -> None:
    test = compose["services"]["api"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert f"127.0.0.1:{image_env['SHAZAM_PORT']}/health" in " ".join(test)


def test_every_setting_reaches_the_app_from_an_optional_env_file(compose: dict) -> None:
    api = compose["services"]["api"]
    assert {"path": ".env", "required": False} in api["env_file"]
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(api.get("environment", {})) | set(ENV_NAME.findall(text))
    assert used <= settings_env_names()


def test_published_on_loopback_with_a_stop_grace_period(compose: dict) -> None:
    api = compose["services"]["api"]
    for port in api["ports"]:
        assert port.startswith("${HOST_ADDRESS:-127.0.0.1}:"), port
    # The app listens on 0.0.0.0 inside its network namespace; open writes are allowed there by
    # default only because the publication above is loopback.
    assert api["environment"]["SHAZAM_ALLOW_OPEN_WRITES"] == "${SHAZAM_ALLOW_OPEN_WRITES:-true}"
    grace = api["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) >= 60


def test_milvus_profile_runs_a_standalone_the_app_can_reach(compose: dict) -> None:
    services = compose["services"]
    for name in ("etcd", "minio", "milvus"):
        assert services[name]["profiles"] == ["milvus"], name
        for volume in services[name]["volumes"]:
            assert volume.split(":")[0] in compose["volumes"], "Milvus data on named volumes"
    milvus = services["milvus"]
    assert milvus["command"] == ["milvus", "run", "standalone"]
    assert set(milvus["depends_on"]) == {"etcd", "minio"}
    assert "9091/healthz" in " ".join(milvus["healthcheck"]["test"])
    api = services["api"]
    assert "profiles" not in api, "plain `docker compose up` still runs the embedded app"
    assert api["depends_on"]["milvus"] == {"condition": "service_healthy", "required": False}
    assert api["environment"]["SHAZAM_MILVUS_URI"].endswith("http://milvus:19530}")
