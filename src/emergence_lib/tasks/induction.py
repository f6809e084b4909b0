"""Sequences for induction heads: random tokens that repeat at a random distance, with masks for
the positions where the next token can be copied from earlier in the context.

Convention: ``mask[b, t]`` is True when the logits at position ``t`` predict a token
(``tokens[b, t + 1]``) that an induction head can copy: the current token ``tokens[b, t]`` and
its successor already appeared together earlier. The last position has no target: always False.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._validate import check_int


def _check_generator(generator: object) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(0)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator


def periodic_sequences(n: int, n_ctx: int, vocab: int, min_period: int = 8,
                       max_period: int = 32, generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences, each periodic with its own period h ~ U[min_period, max_period]:
    ``tokens[b, t] = x_b[t mod h_b]`` for random tokens x_b. Returns tokens (n, n_ctx) long and
    the copyable mask (n, n_ctx) bool (True where ``t >= h_b`` and ``t < n_ctx - 1``)."""
    n = check_int("n", n, minimum=1)
    n_ctx = check_int("n_ctx", n_ctx, minimum=2)
    vocab = check_int("vocab", vocab, minimum=2)
    min_period = check_int("min_period", min_period, minimum=1)
    max_period = check_int("max_period", max_period, minimum=min_period)
    if max_period >= n_ctx:
        raise ValueError(f"max_period must be < n_ctx={n_ctx} so that every sequence repeats, "
                         f"got {max_period}")
    generator = _check_generator(generator)
    period = torch.randint(min_period, max_period + 1, (n, 1), generator=generator)  # (n, 1)
    base = torch.randint(vocab, (n, max_period), generator=generator)               # (n, hmax)
    t = torch.arange(n_ctx)                                                          # (T,)
    tokens = torch.gather(base, 1, t % period)                                       # (n, T)
    mask = (t >= period) & (t < n_ctx - 1)                                           # (n, T)
    return tokens, mask


def repeated_sequences(n: int, block: int, vocab: int,
                       generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences made of a random block of ``block`` tokens repeated once. Returns tokens
    (n, 2 * block) and the copyable mask (n, 2 * block): True at ``block <= t < 2 * block - 1``."""
    n = check_int("n", n, minimum=1)
    block = check_int("block", block, minimum=2)
    vocab = check_int("vocab", vocab, minimum=2)
    generator = _check_generator(generator)
    first = torch.randint(vocab, (n, block), generator=generator)  # (n, L)
    tokens = torch.cat([first, first], dim=1)                      # (n, 2L)
    t = torch.arange(2 * block)
    mask = ((t >= block) & (t < 2 * block - 1)).expand(n, -1).clone()
    return tokens, mask


def periodic_sampler(n_ctx: int, vocab: int, min_period: int = 8, max_period: int = 32
                     ) -> Callable[[int | None, torch.Generator],
                                   tuple[torch.Tensor, torch.Tensor]]:
    """A sampler for ``train``: ``(batch_size, generator) -> (tokens, mask)``, fresh periodic
    sequences at every step."""
    periodic_sequences(1, n_ctx, vocab, min_period, max_period)  # validate once, now

    def sample(batch_size: int | None, generator: torch.Generator):
        if batch_size is None:
            raise ValueError("periodic_sampler draws fresh data: give TrainConfig a batch_size")
        return periodic_sequences(batch_size, n_ctx, vocab, min_period, max_period, generator)

    return sample
