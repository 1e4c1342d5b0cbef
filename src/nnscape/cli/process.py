"""``nnscape process``: lay out and bundle a network file into a processed one."""

from __future__ import annotations

import argparse
import json

from nnscape.cli.common import (
    add_config_arguments,
    config_from_args,
    device_name,
    output_path,
    progress_bars,
    quick_imports,
    seed_number,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "process", help="lay out, prune and bundle a network (writes a processed .nnscape file)"
    )
    parser.add_argument("input", metavar="IN", help="a .nnscape file (from generate or importance, or processed)")
    parser.add_argument("--out", required=True, help="the processed .nnscape file to write")
    add_config_arguments(parser, "processing")
    parser.add_argument("--device", type=device_name, help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.config import ProcessingConfig
        from nnscape.io import load
        from nnscape.processing import process

    out = output_path(args.out)
    config = config_from_args(ProcessingConfig, args)
    network = load(args.input)
    with progress_bars(quiet=args.quiet) as progress:
        result = process(network, config, seed=args.seed, device=args.device, progress=progress)
    result.save(out)
    if not args.quiet:
        quality = json.loads(result.metadata["quality"])
        print(
            f"wrote {out}: {result.n_edges} edges ({result.metadata['pruned_edges']} pruned), "
            f"{result.n_samples} points in {result.metadata['processing_seconds']} s; "
            f"ink {quality['ink']:.3g} of straight, spread {quality['spread']:.3g}"
        )
    return 0
