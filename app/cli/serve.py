"""`serve` and `prepare-model`: checks that fail fast and clearly, first-run demo, then uvicorn."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import tempfile
from pathlib import Path

from app.cli.errors import CliError
from app.config import Settings


def add_parsers(subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = subcommands.add_parser(
        "serve",
        parents=[common],
        help="run the HTTP API (and seed a demo catalog on first run)",
        description="Run the HTTP API. Before loading the model it checks that the port is free "
        "and the data directory is writable. On the first run with an empty catalog it seeds a "
        "small demo catalog (Big Buck Bunny and 3 generated titles) and writes sample "
        "screenshots to DATA_DIR/samples/; turn that off with --no-demo or SHAZAM_SEED_DEMO=0.",
    )
    serve.add_argument(
        "--host",
        default=argparse.SUPPRESS,
        help="address to listen on (env SHAZAM_HOST, default 127.0.0.1; 0.0.0.0 for all)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=argparse.SUPPRESS,
        help="TCP port (env SHAZAM_PORT, default 8000)",
    )
    serve.add_argument(
        "--no-demo",
        dest="seed_demo",
        action="store_false",
        default=argparse.SUPPRESS,
        help="do not seed the demo catalog into an empty data directory (env SHAZAM_SEED_DEMO=0)",
    )
    serve.set_defaults(handler=run_serve)

    prepare = subcommands.add_parser(
        "prepare-model",
        parents=[common],
        help="build, convert and cache the embedder so serving needs no TensorFlow (Dockerfile)",
        description="Build the configured embedder (--model) from its packaged weights, convert "
        "it to LiteRT, check the conversion against Keras and store it in the model cache with "
        "its vector-index projection, then exit. Needs TensorFlow; run once at install or "
        "image-build time.",
    )
    prepare.set_defaults(handler=run_prepare_model)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Check what can be checked cheaply, load the model and catalog once (a catalog built
    with another model is refused here, in one line), seed the demo if wanted, then serve."""
    check_writes_guarded(settings)
    check_data_dir(settings.data_dir)
    check_port_free(settings.host, settings.port)

    from app.cli.catalog import opened_services
    from app.demo import curl_hint, seed_if_needed
    from app.server import run

    with opened_services(settings) as services:
        seed_if_needed(settings, services)
        hint = curl_hint(settings)
        if hint:
            print(hint, flush=True)
        run(settings, services)
    return 0


def run_prepare_model(args: argparse.Namespace, settings: Settings) -> int:
    from model.registry import load_embedder
    from training.index_projection import reference_projection

    cache_dir = settings.resolved_cache_dir
    embedder = load_embedder(settings.model, cache_dir, threads=settings.inference_threads)
    print(f"model {embedder.name} ready (dim {embedder.dim}, input {embedder.input_size} px)")
    # A new catalog's index projection, fitted now rather than at the first open.
    if reference_projection(embedder, cache_dir, settings.index_dims) is not None:
        print(f"index projection to {settings.index_dims} dims ready")
    print(f"cache: {cache_dir}")
    return 0


def check_writes_guarded(settings: Settings) -> None:
    """Refuse to open writes without a key to anything but this machine, unless told to."""
    from app.access import KeyFileError
    from app.auth import has_write_key

    try:
        keyed = has_write_key(settings)
    except KeyFileError as error:
        raise CliError(str(error)) from error
    if keyed or settings.allow_open_writes or is_loopback(settings.host):
        return
    raise CliError(
        f"refusing to listen on {settings.host} with no write key: anyone who can reach it could "
        "add and delete titles. Set SHAZAM_API_KEY (or SHAZAM_API_KEYS_FILE), listen on "
        "127.0.0.1, or set SHAZAM_ALLOW_OPEN_WRITES=true if that is really what you want"
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def check_data_dir(data_dir: Path) -> None:
    """Fail now, in words, if the catalog could not be written later."""
    hint = "choose another with --data-dir or SHAZAM_DATA_DIR"
    if data_dir.exists() and not data_dir.is_dir():
        raise CliError(f"data dir {data_dir} is a file, not a directory; {hint}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"cannot create data dir {data_dir}: {_reason(error)}; {hint}") from error
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-check-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise CliError(f"no space left on device for data dir {data_dir}; {hint}") from error
        raise CliError(f"data dir {data_dir} is not writable: {_reason(error)}; {hint}") from error


def check_port_free(host: str, port: int) -> None:
    """Bind the address the way uvicorn will (SO_REUSEADDR), then let it go."""
    hint = "pick another with --port N or SHAZAM_PORT=N"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise CliError(f"cannot listen on host {host!r}: {error.strerror}") from error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CliError(f"port {port} on {host} is already in use; {hint}") from error
            if error.errno == errno.EACCES:
                raise CliError(
                    f"port {port} needs administrator rights; use a port above 1023 ({hint})"
                ) from error
            if error.errno == errno.EADDRNOTAVAIL:
                raise CliError(
                    f"host {host} is not an address of this machine; use --host 127.0.0.1 "
                    "or 0.0.0.0"
                ) from error
            raise CliError(f"cannot listen on {host}:{port}: {_reason(error)}") from error


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
