"""``nnscape info``: what a .nnscape file holds."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from nnscape.cli.common import quick_imports


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("info", help="show layers, classes, edges, samples and quality of a file")
    parser.add_argument("file", help="a .nnscape file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.summary import describe

    info = describe(args.file)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(format_info(args.file, info))
    return 0


def format_info(path: str, info: dict[str, Any]) -> str:
    """Human-readable lines for the terminal."""
    shown = _first(info["class_names"])
    lines = [
        f"file:         {path} ({info['size_bytes'] / 1e6:.2f} MB)",
        f"kind:         {info['kind']}",
        f"layers:       {' - '.join(map(str, info['layer_sizes']))} ({info['nodes']} nodes)",
        f"layer names:  {_first(f'{n} ({k})' for n, k in zip(info['layer_names'], info['layer_kinds'], strict=True))}",
        f"classes:      {info['classes']} ({shown})",
        f"edges:        {info['edges']} ({info['pruned_edges']} pruned, {info['skip_edges']} skip edges crossing "
        "layers)",
        f"samples:      {info['samples']}",
    ]
    if "source" in info:
        lines.append(f"source:       {json.dumps(info['source'])}")
    if "processing_config" in info:
        config = info["processing_config"]
        settings = ", ".join(f"{k}={v}" for k, v in config.items()) if isinstance(config, dict) else config
        lines.append(f"config:       {settings}")
    if "quality" in info and isinstance(info["quality"], dict):
        lines.append("quality:      " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                              for k, v in info["quality"].items()))  # fmt: skip
    known = {"kind", "layer_sizes", "layer_names", "layer_kinds", "class_names", "classes", "nodes", "edges",
             "pruned_edges", "skip_edges", "samples", "name", "size_bytes", "source", "processing_config", "quality",
             "ink", "spread"}  # fmt: skip
    lines += [f"{k + ':':<13} {v}" for k, v in info.items() if k not in known]
    return "\n".join(lines)


def _first(items: Iterable[str], count: int = 12) -> str:
    """The first ``count`` items joined by commas, then "…" if there are more."""
    listed = list(items)
    return ", ".join(listed[:count]) + (", …" if len(listed) > count else "")
