"""Measuring speed: the machine's matmul ceiling and a timer, shared by every benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from ._validate import check_int


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best achieved GFLOP/s of an (n x n) @ (n x n) fp32 matmul: the machine's practical
    ceiling, to compare a training loop against."""
    n = check_int("n", n, minimum=16)
    repeats = check_int("repeats", repeats, minimum=1)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def time_per_call(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    """Median seconds per call of ``fn`` after ``warmup`` calls."""
    repeats = check_int("repeats", repeats, minimum=1)
    for _ in range(check_int("warmup", warmup, minimum=0)):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def seconds_per_step(step: Callable[[], object], steps: int, warmup: int = 0) -> float:
    """Mean seconds per call over ``steps`` consecutive calls of ``step`` (after ``warmup``
    calls): the rate of a training loop, where a median per call would hide periodic costs."""
    steps = check_int("steps", steps, minimum=1)
    for _ in range(check_int("warmup", warmup, minimum=0)):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps
