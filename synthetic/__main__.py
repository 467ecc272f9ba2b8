"""`python -m synthetic preview OUT_DIR`: contact sheets of generated titles and perturbations."""

from __future__ import annotations

import argparse
import sys

from synthetic.preview import write_preview


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthetic")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="write contact sheet PNGs into OUT_DIR")
    preview.add_argument("out_dir")
    preview.add_argument("--titles", type=int, default=6)
    args = parser.parse_args(argv)
    for path in write_preview(args.out_dir, titles=args.titles):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
