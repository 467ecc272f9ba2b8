"""The `shazam-anime` command line: one parser, settings from env then flags, one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app.cli.errors import CliError, disk_full_hint, user_error_message
from app.config import Settings

# Flags that override a Settings field of the same name (dest -> field).
_SETTINGS_FLAGS = ("data_dir", "model", "cache_dir", "host", "port", "seed_demo")

_DESCRIPTION = """\
Identify an anime (title, episode, second) from one screenshot.

Every option can also be set in the environment as SHAZAM_<NAME> (e.g. SHAZAM_DATA_DIR);
a flag given on the command line wins over the environment."""

_EPILOG = """\
examples:
  shazam-anime serve                                   # http://127.0.0.1:8000/docs
  shazam-anime index add --title "My Show" --episode 3 ep03.mkv
  shazam-anime index add "library/My Show"             # TITLE/[EPISODE/] folder layout
  shazam-anime identify screenshot.png
  shazam-anime calibrate                               # thresholds for this catalog's model"""


def _common_options() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (SUPPRESS keeps an absent flag absent)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("catalog and model")
    group.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="catalog, vector index and thumbnails (env SHAZAM_DATA_DIR, default ./data)",
    )
    group.add_argument(
        "--model",
        default=argparse.SUPPRESS,
        metavar="NAME_OR_PATH",
        help="embedder: efficientnet-lite0 (default), efficientnet-lite1/2, resnet50, "
        "or an exported .keras file (env SHAZAM_MODEL)",
    )
    group.add_argument(
        "--cache-dir",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where built models are cached (env SHAZAM_CACHE_DIR, default ~/.cache/shazam-anime)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full parser; subcommands register themselves from their own modules."""
    from app.cli import calibrate, catalog, serve

    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="shazam-anime",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.add_parsers(subcommands, common)
    catalog.add_parsers(subcommands, common)
    calibrate.add_parsers(subcommands, common)
    _add_training_parsers(subcommands)
    return parser


def _add_training_parsers(subcommands: argparse._SubParsersAction) -> None:
    """`train` and `evaluate` come from training's own module when it is installed."""
    try:
        from app.cli.train import add_train_parsers
    except ImportError:
        return
    add_train_parsers(subcommands)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings read from the environment, then overridden by the flags actually given."""
    given = vars(args)
    overrides = {name: given[name] for name in _SETTINGS_FLAGS if given.get(name) is not None}
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `shazam-anime`; returns the process exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = settings_from(args)
        return _dispatch(args, settings)
    except KeyboardInterrupt:
        print("shazam-anime: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # user errors become one line; bugs keep their traceback
        message = user_error_message(error)
        full = disk_full_hint(settings.data_dir) if settings is not None else None
        if message is None and full is None:
            raise
        lines = [message or f"{type(error).__name__}: {error}"]
        if full and "no space left" not in lines[0]:
            lines.append(full)
        for line in lines:
            print(f"shazam-anime: error: {line}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args, settings) or 0)
    # Training's parsers follow argparse's usual `func(args)` convention.
    func = getattr(args, "func", None)
    if func is None:
        raise CliError(f"command {args.command!r} has nothing to run")
    return int(func(args) or 0)


__all__ = ["CliError", "build_parser", "main", "settings_from"]
