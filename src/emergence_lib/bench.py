"""Measuring speed: the machine's matmul ceiling and a timer, shared by every benchmark."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class StepCost:
    """Speed and memory of one call (e.g. a training step): seconds (median), calls per
    second, bytes torch allocated during one call, and the Python-side peak (tracemalloc)."""

    seconds: float
    per_second: float
    torch_allocated_bytes: int
    python_peak_bytes: int

    def summary(self, unit: str = "steps") -> str:
        return (f"{self.per_second:,.1f} {unit}/s ({self.seconds * 1e3:.2f} ms each); torch "
                f"allocated {self.torch_allocated_bytes / 2**20:.2f} MiB per call, Python peak "
                f"{self.python_peak_bytes / 2**10:.1f} KiB")


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block: the profiler's C++ side (Kineto's
    start/stop lines, an allocator warning) writes there, and a notebook shows fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def measure_step(fn: Callable[[], object], repeats: int = 10, warmup: int = 2) -> StepCost:
    """Time ``fn`` (median of ``repeats`` after ``warmup``) and measure its memory on one more
    call: torch's allocations from the profiler (profile_memory) and tracemalloc's peak."""
    seconds = time_per_call(fn, repeats=repeats, warmup=warmup)
    from torch.profiler import ProfilerActivity, profile

    with _stderr_silenced(), profile(activities=[ProfilerActivity.CPU],
                                     profile_memory=True) as prof:
        fn()
    allocated = sum(max(int(e.self_cpu_memory_usage), 0) for e in prof.key_averages())
    tracemalloc.start()
    try:
        fn()
        python_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return StepCost(seconds, 1.0 / seconds if seconds > 0 else float("inf"), allocated,
                    int(python_peak))
