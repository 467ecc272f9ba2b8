"""`calibrate`: decision thresholds chosen on the catalog's own held-out frames, then stored."""

from __future__ import annotations

import argparse
import json

from app.cli.catalog import opened_store
from app.cli.errors import CliError
from app.config import Settings

_DESCRIPTION = """\
Calibrate the decision thresholds for the model that built the catalog, on the catalog itself:
in each of --folds rounds, some episodes (sources) of titles with several are held out and some
titles are withheld whole; the title model is fitted on the rest and the held-out frames are
searched against it. The frame threshold keeps --unknown of the withheld titles' frames from a
frame match; the title thresholds answer the most unseen-episode frames rightly with at most
--wrong of them wrong and at most 1 - --unknown of the withheld titles answered. Needs no model
(the stored vectors are used). The thresholds are stored in the catalog and used by `serve` and
`identify` from their next start; a SHAZAM_MIN_* setting still wins. Prints what was measured."""


def add_parsers(subcommands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    calibrate = subcommands.add_parser(
        "calibrate",
        parents=[common],
        help="calibrate the decision thresholds on the catalog (held-out episodes and titles)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    calibrate.add_argument("--folds", type=int, default=3, help="rounds (default 3)")
    calibrate.add_argument(
        "--per-source", type=int, default=20, help="frames queried per held-out source (20)"
    )
    calibrate.add_argument("--wrong", type=float, default=0.05, help="wrong answers allowed")
    calibrate.add_argument(
        "--unknown", type=float, default=0.95, help="share of withheld titles to leave unknown"
    )
    calibrate.add_argument(
        "--dry-run", action="store_true", help="print the thresholds without storing them"
    )
    calibrate.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from index.query.calibrate import CalibrationError, calibrate

    if args.folds < 2 or args.per_source < 1:
        raise CliError("--folds must be >= 2 and --per-source >= 1")
    if not (0 <= args.wrong <= 1 and 0 <= args.unknown <= 1):
        raise CliError("--wrong and --unknown are shares between 0 and 1")
    with opened_store(settings, read_only=args.dry_run) as store:
        if store is None:
            raise CliError(f"no catalog in {settings.data_dir}; add titles first")
        try:
            result = calibrate(
                store,
                folds=args.folds,
                per_source=args.per_source,
                wrong=args.wrong,
                unknown=args.unknown,
            )
        except CalibrationError as error:
            raise CliError(str(error)) from error
        if not args.dry_run:
            store.set_calibration({"thresholds": result.thresholds(), "measured": result.as_dict()})
    print(json.dumps({"model": store.model_name, **result.as_dict()}, indent=2))
    return 0
