"""Small helpers used across the library: seeding, parameter counts, threads."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn as nn

from ._validate import check_int


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (the global generators)."""
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (e.g. building a model) under ``torch.manual_seed(seed)``, then restore the
    global generator, so the same seed always gives the same initial weights."""
    seed = check_int("seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def configure_threads() -> int:
    """Use the thread count in ``EMERGENCE_THREADS`` if set (e.g. 1 when notebooks share the CPU);
    return the number PyTorch will use."""
    threads = os.environ.get("EMERGENCE_THREADS")
    if threads:
        torch.set_num_threads(check_int("EMERGENCE_THREADS", int(threads), minimum=1))
    return torch.get_num_threads()
