"""ResNet-18 benchmark: importance, then processing with prune 0.9 (target ≤ 60 s on 2 cores), then the viewer.

    python benchmarks/bench_resnet.py [--repeats 3] [--threads 2] [--view] [--keep FOLDER]

The model is torchvision's ResNet-18 architecture (BasicBlocks [2, 2, 2, 2], 7×7 stem, max pooling, identity
and 1×1-projection shortcuts, global average pooling, one Linear), written out here so that no torchvision is
needed, with random weights and a 10-class head (nnscape handles 2 to 100 classes; the architecture is the
same up to the head). Its channels are the nodes: 3 inputs, 64 … 512 channels, 10 outputs (3 917 nodes); the
shortcuts become skip edges that cross a layer. Importance ("activation" method: one pass, no training) comes
from random 3×32×32 images with random labels; it is timed once and is not part of the target.

Processing runs in fresh processes (so the peak memory of one run is its own), and prints the median wall and
CPU seconds beside the target. ``--view`` then opens the processed file in the real viewer (the nnscape server,
headless Chromium) and counts the pixels the network's drawing covers (the control panel hidden).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from torch import nn

TARGET_SECONDS = 60.0
PRUNE = 0.9
CLASSES = 10
EXAMPLES = 200
IMAGE = (3, 32, 32)
VIEWPORT = (1280, 720)


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: two 3×3 convolutions with batch norm; a projection where the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        activated: torch.Tensor = self.relu(out)
        return activated


class ResNet18(nn.Module):
    """torchvision.models.resnet18's layers and forward."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = (64, 128, 256, 512)
        stages = []
        for index, width in enumerate(widths):
            cin = widths[index - 1] if index else 64
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, width, stride), BasicBlock(width, width, 1)))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        logits: torch.Tensor = self.fc(torch.flatten(self.avgpool(x), 1))
        return logits


def importance_file(path: Path) -> float:
    """Write the ResNet-18's importance network to ``path``; returns the seconds it took."""
    from nnscape.importance import importance

    torch.manual_seed(0)
    model = ResNet18(CLASSES).eval()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(EXAMPLES, *IMAGE, generator=generator)
    y = torch.arange(EXAMPLES) % CLASSES
    started = time.perf_counter()
    network = importance(model, (x, y), method="activation", device="cpu")
    seconds = time.perf_counter() - started
    network.save(path)
    return seconds


def process_once(path: Path, threads: int | None) -> dict[str, float]:
    """Process the file at ``path`` in this process; returns seconds, CPU seconds, peak memory and sizes."""
    from nnscape.config import ProcessingConfig
    from nnscape.io import load
    from nnscape.processing import process

    if threads:
        torch.set_num_threads(threads)
    network = load(path)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = process(network, ProcessingConfig(prune_percentage=PRUNE))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    result.save(path.with_suffix(".processed.nnscape"))
    quality = json.loads(result.metadata["quality"])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "edges": result.n_edges,
        "skip_edges": int((result.edge_span > 1).sum()),
        "samples": result.n_samples,
        "ink": quality["ink"],
        "inside": quality["inside"],
        "class_separation": quality.get("class_separation", float("nan")),
    }


def view(path: Path, screenshot: Path | None) -> tuple[float, float]:
    """Open ``path`` in the viewer; returns (seconds to the first frame, fraction of the canvas drawn on)."""
    from nnscape.figures import ViewerPage, chromium, ink
    from nnscape.server import create_app, serve_in_thread

    with tempfile.TemporaryDirectory() as scratch:
        url, stop = serve_in_thread(create_app(path.parent, config_folder=Path(scratch) / "configs"))
        try:
            with chromium(Path(scratch) / "profile", *VIEWPORT) as context:
                viewer = ViewerPage(context.new_page(), url)
                started = time.perf_counter()
                viewer.open(path.name)
                seconds = time.perf_counter() - started
                pixels = viewer.pixels()  # the canvas without the control panel
        finally:
            stop()
    if screenshot is not None:
        Image.fromarray(pixels).save(screenshot)
    return seconds, float(ink(pixels).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--view", action="store_true", help="open the processed network in the viewer")
    parser.add_argument("--keep", type=Path, help="write the files (and the screenshot) to this folder")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(process_once(args.child, args.threads)))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep.resolve() if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "resnet18.nnscape"
        print(f"importance of ResNet-18 on {EXAMPLES} random {'×'.join(map(str, IMAGE))} images …", flush=True)
        importance_seconds = importance_file(path)
        from nnscape.io import load

        network = load(path)
        sizes = network.layer_sizes.tolist()
        print(f"  {importance_seconds:.1f} s; {network.n_nodes} nodes in {len(sizes)} layers "
              f"({min(sizes[1:-1])} to {max(sizes)} channels), {network.n_edges:,} edges of which "
              f"{int((network.edge_span > 1).sum()):,} skip edges", flush=True)  # fmt: skip
        runs = []
        for _ in range(args.repeats):
            command = [sys.executable, __file__, "--child", str(path)]
            command += ["--threads", str(args.threads)] if args.threads else []
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(output.strip().splitlines()[-1]))
        seconds = statistics.median(r["seconds"] for r in runs)
        cpu_seconds = statistics.median(r["cpu_seconds"] for r in runs)
        first = runs[0]
        each = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        verdict = "ok" if seconds <= TARGET_SECONDS else "MISS"
        print(f"process, prune {PRUNE}: {first['edges']:,} edges ({first['skip_edges']:,} skip), "
              f"{first['samples']:,} samples")  # fmt: skip
        print(f"  wall {seconds:.1f} s  (target {TARGET_SECONDS:g} s)  {verdict}   CPU {cpu_seconds:.1f} s   "
              f"peak {statistics.median(r['peak_gb'] for r in runs):.2f} GB   "
              f"(median of {len(runs)}: {each} s)")  # fmt: skip
        print(f"  ink {first['ink']:.3f}  inside {first['inside']:.3f}  "
              f"class separation {first['class_separation']:.3f}")  # fmt: skip
        if args.view:
            shot = folder / "resnet18.png" if args.keep else None
            first_frame, drawn = view(path.with_suffix(".processed.nnscape"), shot)
            print(f"viewer: first frame in {first_frame:.1f} s, the drawing covers {drawn:.1%} of the canvas"
                  + (f" ({shot})" if shot else ""))  # fmt: skip
            if drawn < 0.01:
                print("  MISS: the viewer drew (almost) nothing")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
