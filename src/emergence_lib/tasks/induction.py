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


def copyable_mask(tokens: torch.Tensor) -> torch.Tensor:
    """The copyable positions of any sequences: ``mask[b, t]`` is True when the bigram
    ``(tokens[b, t], tokens[b, t + 1])`` already occurred at some ``s < t``. tokens (n, T) ->
    mask (n, T) bool (the last position is always False)."""
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2 or tokens.is_floating_point():
        raise TypeError(f"tokens must be an integer tensor of shape (n, T), got "
                        f"{getattr(tokens, 'dtype', type(tokens).__name__)} of shape "
                        f"{tuple(getattr(tokens, 'shape', ()))}")
    n, T = tokens.shape
    mask = torch.zeros(n, T, dtype=torch.bool)
    if T < 3:
        return mask
    first, second = tokens[:, :-1], tokens[:, 1:]                       # (n, T - 1) bigrams
    same = (first[:, :, None] == first[:, None, :]) & (second[:, :, None] == second[:, None, :])
    earlier = torch.ones(T - 1, T - 1, dtype=torch.bool).tril(-1)       # [t, s]: s < t
    mask[:, :-1] = (same & earlier).any(-1)
    return mask


def text_like_sequences(n: int, n_ctx: int, vocab: int, zipf_exponent: float = 1.0,
                        repeat_prob: float = 0.08, min_ngram: int = 3, max_ngram: int = 8,
                        generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Held-out sequences that are *not* periodic: Zipfian tokens (rank r has probability
    proportional to (r + 1)^-zipf_exponent, with a fresh random rank order per sequence, so the
    frequencies can only be learned in context) in which, at each position with probability
    ``repeat_prob``, an n-gram of length U[min_ngram, max_ngram] copied from a random earlier
    place starts. Returns tokens (n, n_ctx) long and ``copyable_mask(tokens)``."""
    n = check_int("n", n, minimum=1)
    n_ctx = check_int("n_ctx", n_ctx, minimum=2)
    vocab = check_int("vocab", vocab, minimum=2)
    if (isinstance(zipf_exponent, bool) or not isinstance(zipf_exponent, (int, float))
            or not 0 <= zipf_exponent <= 10):
        raise ValueError(f"zipf_exponent must be a number in [0, 10] (0 = uniform), "
                         f"got {zipf_exponent!r}")
    if (isinstance(repeat_prob, bool) or not isinstance(repeat_prob, (int, float))
            or not 0 <= repeat_prob <= 1):
        raise ValueError(f"repeat_prob must be a probability in [0, 1], got {repeat_prob!r}")
    min_ngram = check_int("min_ngram", min_ngram, minimum=2)
    max_ngram = check_int("max_ngram", max_ngram, minimum=min_ngram)
    generator = _check_generator(generator)
    weights = (torch.arange(vocab) + 1.0) ** -float(zipf_exponent)                  # (V,)
    ranks = torch.multinomial(weights.expand(n, -1), n_ctx, replacement=True,
                              generator=generator)                                  # (n, T)
    order = torch.rand(n, vocab, generator=generator).argsort(-1)                   # (n, V)
    fresh = torch.gather(order, 1, ranks).tolist()                                  # (n, T)
    start_copy = (torch.rand(n, n_ctx, generator=generator) < repeat_prob).tolist()
    lengths = torch.randint(min_ngram, max_ngram + 1, (n, n_ctx), generator=generator).tolist()
    where = torch.rand(n, n_ctx, generator=generator).tolist()
    rows = []
    for b in range(n):
        row: list[int] = []
        while len(row) < n_ctx:
            t = len(row)
            if start_copy[b][t] and t >= min_ngram:   # copy an n-gram that lies wholly before t
                length = min(lengths[b][t], t, n_ctx - t)
                source = int(where[b][t] * (t - length + 1))
                row.extend(row[source:source + length])
            else:
                row.append(fresh[b][t])
        rows.append(row)
    tokens = torch.tensor(rows, dtype=torch.long)
    return tokens, copyable_mask(tokens)
