"""The demo: three small networks (untrained, basic, L1-regularised), their importance, bundled, ready to view.

``nnscape demo`` trains the three variants of one MLP on a bundled data set, estimates importance, processes
all three with the same config and writes ``<data>-<variant>.processed.nnscape`` into a folder. The files
record the recipe that made them (metadata ``demo``), so a re-run reuses the ones made by the same recipe and
rebuilds the rest. Side by side they illustrate the thesis's point: the untrained network a diffuse cloud, the
trained one bundles, the L1-regularised one narrow bundles. (Measured by the edges' spread, the 784-81-49-10
Fashion-MNIST models show it; the small digits ones differ by less than between seeds: see README.md.)
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnscape.config import ProcessingConfig
from nnscape.errors import DataError, NnscapeError
from nnscape.io import load, read_metadata
from nnscape.progress import ProgressCallback, ProgressEvent, check_cancelled, report

if TYPE_CHECKING:
    from nnscape.datasets import DatasetSplits
    from nnscape.train import Variant

__all__ = [
    "DEMO_DATA",
    "SHOWN_VARIANT",
    "SINGLE_THREAD_DATA",
    "VARIANTS",
    "DemoRecipe",
    "build_demo",
    "checkpoint_path",
    "default_demo_dir",
    "demo_path",
    "demo_recipe",
    "demo_stamp",
]

VARIANTS: tuple[Variant, ...] = ("untrained", "basic", "l1")
# The variant the viewer opens first.
SHOWN_VARIANT = "basic"
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
# Data sets whose demo networks are so small (digits: 2 720 edges) that one thread is fastest: parallel
# overhead exceeds the work, and on a busy machine waiting OpenMP workers stalled the demo from 4 s to 80 s.
SINGLE_THREAD_DATA = {"digits": 1}
_METADATA_KEY = "demo"


@dataclass(frozen=True)
class DemoRecipe:
    """Everything that decides a demo file's contents; a file is reused only if its recipe is equal."""

    data: str
    hidden: tuple[int, ...]
    train_epochs: int = 15
    l1: float = 0.001
    importance_epochs: int = 20
    seed: int = 0
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields, as stored in each demo file's metadata."""
        return {**asdict(self), "hidden": list(self.hidden), "processing": self.processing.to_dict()}


# The thesis's MLP shapes: a small one for the 8×8 digits, the 784-81-49-10 one for 28×28 images. Digits is
# small, so it needs more epochs for the same number of optimizer steps. Training: 1 347 images are 11 batches
# an epoch; 100 epochs take under a second and reach ~0.96 test accuracy (15 reach 0.85). Importance: each
# class-vs-rest set is ~270 images, 3 batches, so the default 20 epochs are 60 Adam steps, γ stays within 0.06 of
# 1 and the importance is flat; 600 epochs give the ~1 900 steps of 20 epochs on MNIST (thesis lr 1e-3 kept).
DEMO_DATA: dict[str, DemoRecipe] = {
    "digits": DemoRecipe(data="digits", hidden=(32, 16), train_epochs=100, l1=0.003, importance_epochs=600),
    "fashion-mnist": DemoRecipe(data="fashion-mnist", hidden=(81, 49)),
}


def demo_recipe(data: str = "digits", **changes: object) -> DemoRecipe:
    """The demo recipe for ``data`` (``digits`` or ``fashion-mnist``), with fields such as epochs changed."""
    if data not in DEMO_DATA:
        raise DataError(f"demo data {data!r}: expected one of {', '.join(DEMO_DATA)}")
    return replace(DEMO_DATA[data], **changes)  # type: ignore[arg-type]


def default_demo_dir() -> Path:
    """The platform's per-user cache folder for the demo files, e.g. ``~/.cache/nnscape/demo`` on Linux."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nnscape" / "demo"


def demo_path(folder: Path, recipe: DemoRecipe, variant: Variant) -> Path:
    """Where the processed file of one variant goes."""
    return folder / f"{recipe.data}-{variant}.processed.nnscape"


def checkpoint_path(processed: Path) -> Path:
    """The model checkpoint beside a demo file: ``digits-basic.pt`` beside ``digits-basic.processed.nnscape``."""
    return processed.with_name(f"{_stem(processed)}.pt")


def build_demo(
    folder: str | os.PathLike[str],
    *,
    data: str = "digits",
    recipe: DemoRecipe | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Train, estimate importance and process the three demo variants into ``folder``; return their paths.

    Paths come in :data:`VARIANTS` order. A file already there with the same recipe is reused. ``recipe``
    overrides the default for ``data`` (tests use fewer epochs). Progress phases are prefixed with the
    variant's file stem, e.g. ``digits-basic: importance``.
    """
    recipe = recipe or demo_recipe(data)
    out = Path(folder)
    paths = [demo_path(out, recipe, variant) for variant in VARIANTS]
    missing = []
    for variant, path in zip(VARIANTS, paths, strict=True):
        if _is_current(path, recipe):
            report(progress, f"{_stem(path)}: reused", 1, 1)
        else:
            missing.append((variant, path))
    if missing:
        from nnscape import datasets

        if recipe.data == "fashion-mnist" and not datasets.FASHION_MNIST_FOLDER.is_dir():
            raise DataError(
                f"fashion-mnist: {datasets.FASHION_MNIST_FOLDER} not found; install it with "
                f"`sudo apt-get install {FASHION_MNIST_PACKAGE}` (Debian/Ubuntu), or run the demo on digits"
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NnscapeError(f"demo folder {out}: cannot create it ({exc.strerror})") from exc
        splits = datasets.load_dataset(recipe.data)
        with _torch_threads(SINGLE_THREAD_DATA.get(recipe.data)):
            for variant, path in missing:
                check_cancelled(cancel)
                _build_variant(splits, recipe, variant, path, progress=_prefixed(progress, path), cancel=cancel)
    return paths


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch intra-op threads (None: leave as is), restoring the caller's setting."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _build_variant(
    splits: DatasetSplits,
    recipe: DemoRecipe,
    variant: Variant,
    path: Path,
    *,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    from nnscape.importance import importance
    from nnscape.processing import process
    from nnscape.train import save_checkpoint, train_mlp

    trained = train_mlp(
        splits,
        hidden=recipe.hidden,
        variant=variant,
        l1=recipe.l1,
        epochs=recipe.train_epochs,
        seed=recipe.seed,
        progress=progress,
        cancel=cancel,
    )
    network = importance(
        trained.model,
        splits,
        epochs=recipe.importance_epochs,
        seed=recipe.seed,
        class_names=splits.class_names,
        progress=progress,
        cancel=cancel,
    )
    processed = process(network, recipe.processing, seed=recipe.seed, progress=progress, cancel=cancel)
    stamp = {
        "recipe": recipe.to_dict(),
        "variant": variant,
        "train_accuracy": trained.train_accuracy,
        "test_accuracy": trained.test_accuracy,
    }
    # The checkpoint lets `nnscape evaluate` and `nnscape importance` work on the demo's models.
    save_checkpoint(checkpoint_path(path), trained)
    processed.with_changes(metadata={**processed.metadata, _METADATA_KEY: json.dumps(stamp)}).save(path)


def demo_stamp(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a demo file records about itself: ``recipe``, ``variant``, ``train_accuracy``, ``test_accuracy``.

    Empty for a file that is not a demo file.
    """
    try:
        stamp = json.loads(read_metadata(path).get(_METADATA_KEY, "{}"))
    except json.JSONDecodeError:
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _is_current(path: Path, recipe: DemoRecipe) -> bool:
    """True when ``path`` is a valid demo file made by ``recipe``."""
    if not path.is_file():
        return False
    try:
        if demo_stamp(path).get("recipe") != json.loads(json.dumps(recipe.to_dict())):
            return False
        load(path)  # a damaged file is rebuilt rather than served
    except NnscapeError:
        return False
    return True


def _stem(path: Path) -> str:
    return path.name.removesuffix(".processed.nnscape")


def _prefixed(progress: ProgressCallback | None, path: Path) -> ProgressCallback | None:
    if progress is None:
        return None
    stem = _stem(path)

    def forward(event: ProgressEvent) -> None:
        progress(replace(event, phase=f"{stem}: {event.phase}"))

    return forward
