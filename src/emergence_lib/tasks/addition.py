"""Multi-digit addition as token sequences: the running task of chapters 1 and 2."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._validate import check_int


@dataclass(frozen=True)
class AdditionData:
    """Train/test split of ``a + b`` problems, all digits least significant first.

    x_*: (N, 2 * n_digits) digit tokens of a then b; y_*: (N, n_digits + 1) digits of a + b.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_digits: int

    @property
    def answer_length(self) -> int:
        return self.n_digits + 1


def to_digits(numbers: np.ndarray, n_digits: int) -> np.ndarray:
    """Digits of non-negative integers, least significant first: (N,) -> (N, n_digits)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    return (numbers[:, None] // 10 ** np.arange(n_digits)) % 10


def from_digits(digits: torch.Tensor | np.ndarray) -> np.ndarray:
    """Integers from digit rows, least significant first: (N, L) -> (N,)."""
    digits = np.asarray(digits, dtype=np.int64)
    return (digits * 10 ** np.arange(digits.shape[-1])).sum(-1)


def addition_problems(n_digits: int = 4, n_train: int = 30_000, n_test: int = 5_000,
                      seed: int = 0) -> AdditionData:
    """Distinct random ``a + b`` problems with ``n_digits``-digit operands (leading zeros allowed),
    split into disjoint train and test sets by ``seed``."""
    n_digits = check_int("n_digits", n_digits, minimum=1, maximum=9)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    n_pairs = 10 ** (2 * n_digits)
    if n_train + n_test > n_pairs:
        raise ValueError(f"n_train + n_test must be <= {n_pairs} (all distinct {n_digits}-digit "
                         f"pairs), got {n_train} + {n_test} = {n_train + n_test}")
    rng = np.random.default_rng(seed)
    wanted = n_train + n_test
    if wanted > n_pairs // 4:  # dense: permute every pair
        pair_ids = rng.permutation(n_pairs)[:wanted]
    else:  # sparse: draw with replacement, keep the first occurrence of each pair
        pair_ids = np.empty(0, dtype=np.int64)
        while len(pair_ids) < wanted:
            draw = rng.integers(0, n_pairs, size=2 * wanted)
            pair_ids = np.concatenate([pair_ids, draw])
            _, first = np.unique(pair_ids, return_index=True)
            pair_ids = pair_ids[np.sort(first)]
        pair_ids = pair_ids[:wanted]
    a, b = pair_ids // 10**n_digits, pair_ids % 10**n_digits
    x = np.concatenate([to_digits(a, n_digits), to_digits(b, n_digits)], axis=1)
    y = to_digits(a + b, n_digits + 1)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    return AdditionData(x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_digits)
