"""Settings shared by the whole test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from torch import nn


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """Test tensors are tiny: two intra-op threads on a 2-core machine mostly spin against each other."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def fit_on_digits() -> Callable[[nn.Module], float]:
    """Train an image model briefly on digits as 1×8×8 images (Adam, 4 epochs of batches of 64, from torch's
    global generator, which the caller seeds); it is left in eval mode. Returns its test accuracy."""
    from nnscape.datasets import load_dataset
    from nnscape.train import accuracy, fit_classifier

    digits = load_dataset("digits")

    def fit(model: nn.Module) -> float:
        fit_classifier(model, digits.train_x, digits.train_y, epochs=4, batch_size=64, lr=5e-3)
        return accuracy(model, digits.test_x, digits.test_y)

    return fit
