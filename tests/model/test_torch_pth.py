"""The numpy-only checkpoint reader: exact values back, and no code run for a hostile pickle."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from model.builtin import lite_weights_path
from model.torch_pth import CheckpointError, UnsafeCheckpointError, load_state_dict
from tests.model.checkpoint_writer import write_legacy_checkpoint, write_zip_checkpoint

STATE = {
    "conv.weight": np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3) / 7,
    "fc.weight": np.arange(12, dtype=np.float32).reshape(3, 4) - 5,
    "bn.num_batches_tracked": np.array(17, dtype=np.int64),
}


class _RunsShell:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("writer", [write_zip_checkpoint, write_legacy_checkpoint])
def test_reads_both_formats_exactly(tmp_path: Path, writer) -> None:
    loaded = load_state_dict(writer(tmp_path / "m.pth", STATE))
    assert set(loaded) == set(STATE)
    for name, expected in STATE.items():
        assert loaded[name].dtype == expected.dtype
        np.testing.assert_array_equal(loaded[name], expected)


@pytest.mark.parametrize("container", ["zip", "legacy", "bare"])
@pytest.mark.parametrize("protocol", [2, 4])
def test_refuses_pickle_calling_os_system(tmp_path: Path, container: str, protocol: int) -> None:
    sentinel = tmp_path / "pwned"
    payload = pickle.dumps({"x": _RunsShell(f"touch {sentinel}")}, protocol=protocol)
    path = tmp_path / "evil.pth"
    if container == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", payload)
    elif container == "legacy":
        header = io.BytesIO()
        for item in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(item, header, protocol=2)
        path.write_bytes(header.getvalue() + payload)
    else:
        path.write_bytes(payload)  # the magic check must not be the only defence
    with pytest.raises(UnsafeCheckpointError, match=r"system"):
        load_state_dict(path)
    assert not sentinel.exists()


def test_refuses_arbitrary_class(tmp_path: Path) -> None:
    payload = pickle.dumps({"x": zipfile.ZipInfo("a")}, protocol=2)
    path = tmp_path / "odd.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    with pytest.raises(UnsafeCheckpointError, match="zipfile.ZipInfo"):
        load_state_dict(path)


def test_truncated_and_missing_files_fail_clearly(tmp_path: Path) -> None:
    good = write_legacy_checkpoint(tmp_path / "m.pth", STATE).read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good[:-10])
    with pytest.raises(CheckpointError, match="truncated"):
        load_state_dict(cut)
    with pytest.raises(CheckpointError, match="not found"):
        load_state_dict(tmp_path / "absent.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a pickle at all")
    with pytest.raises(CheckpointError):
        load_state_dict(junk)


def test_reads_the_shipped_lite0_weights() -> None:
    state = load_state_dict(lite_weights_path("efficientnet-lite0"))
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert all(np.isfinite(v).all() for v in state.values())
