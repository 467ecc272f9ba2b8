"""`serve` refuses a taken port, an unusable data dir and a full disk, before loading the model."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run `serve` with an empty model cache: if the model were loaded, it would be built there."""
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    monkeypatch.setenv("SHAZAM_CACHE_DIR", str(cache))

    def run(*args: str) -> tuple[int, str]:
        status = main(["serve", *args])
        err = capsys.readouterr().err
        assert not any(cache.iterdir()), "serve loaded the model before failing"
        assert "Traceback" not in err
        return status, err

    return run


def test_taken_port_is_named_with_the_way_out(serve, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, err = serve("--port", str(port), "--data-dir", str(tmp_path / "data"))
    assert status == 1
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "--port" in err and "SHAZAM_PORT" in err


def test_data_dir_that_is_a_file(serve, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, err = serve("--data-dir", str(blocker), "--port", "1")
    assert status == 1 and f"data dir {blocker} is a file" in err and "--data-dir" in err

    status, err = serve("--data-dir", str(blocker / "data"), "--port", "1")
    assert status == 1 and f"cannot create data dir {blocker / 'data'}" in err


def test_unwritable_data_dir(serve, tmp_path: Path) -> None:
    # sysfs refuses new files even to root, so this runs the same for every user.
    if not Path("/sys/kernel").is_dir() or _writable(Path("/sys")):
        pytest.skip("no read-only sysfs here")
    status, err = serve("--data-dir", "/sys", "--port", "1")
    assert status == 1
    assert "data dir /sys is not writable" in err and "SHAZAM_DATA_DIR" in err


def test_full_disk_is_reported_as_such(serve, tmp_path: Path) -> None:
    full = tmp_path / "tiny"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        with (full / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass  # the disk is now full
        status, err = serve("--data-dir", str(full / "data"), "--port", "1")
    finally:
        subprocess.run(["umount", "-l", str(full)], check=False)
    assert status == 1
    assert "no space left on device" in err and "--data-dir" in err


def _writable(directory: Path) -> bool:
    try:
        (directory / ".probe").touch()
    except OSError:
        return False
    (directory / ".probe").unlink()
    return True


@pytest.mark.slow
def test_catalog_of_another_model_is_refused_in_one_line(
    tmp_path: Path, model_cache_dir: Path, capsys
) -> None:
    from index.store.frame_store import FrameStore

    data_dir = tmp_path / "data"
    FrameStore.open(data_dir, dim=8, model_name="someone-elses-model").close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = main(
        ["serve", "--data-dir", str(data_dir), "--port", str(port), "--no-demo",
         "--cache-dir", str(model_cache_dir)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert "someone-elses-model" in err and "reembed" in err


def test_open_writes_on_a_public_address_are_refused(serve, tmp_path: Path) -> None:
    status, err = serve("--host", "0.0.0.0", "--port", "1", "--data-dir", str(tmp_path / "d"))
    assert status == 1
    assert "SHAZAM_API_KEY" in err and "SHAZAM_ALLOW_OPEN_WRITES=true" in err
    assert not (tmp_path / "d").exists(), "refused before touching the data dir"


def test_open_writes_pass_the_check_when_allowed_or_keyed(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the write check, the next check (a taken port) is what stops it."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        monkeypatch.setenv("SHAZAM_ALLOW_OPEN_WRITES", "true")
        status, err = serve("--host", "0.0.0.0", "--port", port, "--data-dir", str(tmp_path / "a"))
        assert status == 1 and "already in use" in err
        monkeypatch.delenv("SHAZAM_ALLOW_OPEN_WRITES")
        monkeypatch.setenv("SHAZAM_API_KEY", "k" * 20)
        status, err = serve("--host", "0.0.0.0", "--port", port, "--data-dir", str(tmp_path / "b"))
        assert status == 1 and "already in use" in err


def test_cli_write_beside_a_holder_is_refused_and_reads_still_work(tmp_path: Path, capsys) -> None:
    from index.store.frame_store import FrameStore

    data_dir = tmp_path / "data"
    holder = FrameStore.open(data_dir, dim=8, model_name="m")  # as a running server would
    try:
        status = main(["index", "remove", "Anything", "--data-dir", str(data_dir)])
        err = capsys.readouterr().err
        assert status == 1 and "Traceback" not in err
        assert "in use by another shazam-anime process" in err and "POST /titles" in err
        assert main(["index", "list", "--data-dir", str(data_dir)]) == 0
        assert "is empty" in capsys.readouterr().out
    finally:
        holder.close()
