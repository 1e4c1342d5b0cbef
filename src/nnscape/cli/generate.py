"""``nnscape generate``: a random network of given layer sizes."""

from __future__ import annotations

import argparse

from nnscape.cli.common import output_path, quick_imports, seed_number, shown_argument, whole_number
from nnscape.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("generate", help="write a random network of given layer sizes")
    parser.add_argument("--layers", required=True, help="comma-separated layer sizes, e.g. 784,81,49,10")
    parser.add_argument("--classes", type=whole_number(2), help="number of classes (default: the output layer's size)")
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="the .nnscape file to write")
    parser.set_defaults(run=run)


def parse_layers(text: str) -> list[int]:
    """``"784,81,10"`` → ``[784, 81, 10]``, with an error naming the bad entry."""
    sizes = []
    for part in text.split(","):
        try:
            sizes.append(int(part))
        except ValueError as exc:  # also a number of more than 4 300 digits
            raise ConfigError(f"--layers: {shown_argument(part)} is not a whole number") from exc
    return sizes


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.generate import random_network

    out = output_path(args.out)
    network = random_network(parse_layers(args.layers), n_classes=args.classes, seed=args.seed)
    network.save(out)
    print(f"wrote {out}: layers {','.join(map(str, network.layer_sizes.tolist()))}, {network.n_edges} edges")
    return 0
