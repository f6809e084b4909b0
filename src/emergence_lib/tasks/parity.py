"""(n, k)-sparse parity: the label of x in {-1, +1}^n is the product of k secret coordinates.

One secret per member, so a batch of independent runs (seeds, or several n at once) can be drawn
together: inputs are zero-padded to the largest n, and padded coordinates carry no signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import torch

from .._validate import check_int, check_tensor


def parity_secret(n: int, k: int, seed: int = 0) -> torch.Tensor:
    """The seeded secret subset: k distinct sorted coordinates in [0, n), shape (k,)."""
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1, maximum=n)
    seed = check_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=generator)[:k].sort().values


_BITS_PER_DRAW = 31  # one 32-bit draw from the generator gives 31 fair coin flips


def random_signs(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Fair +-1 entries of the given shape (float32), 31 per random draw: 3x faster than one
    ``randint(0, 2)`` draw per entry, which dominated a batched training step."""
    *lead, n = shape
    draws = torch.randint(0, 1 << _BITS_PER_DRAW, (*lead, -(-n // _BITS_PER_DRAW)),
                          generator=generator, dtype=torch.int32)          # (..., ceil(n/31))
    shifts = torch.arange(_BITS_PER_DRAW, dtype=torch.int32)
    bits = ((draws[..., None] >> shifts) & 1).flatten(-2)[..., :n]       # (..., n) in {0, 1}
    return bits.float().mul_(2).sub_(1)


def parity_labels(x: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
    """Product of the secret coordinates: x (..., n) in {-1, +1}, secret (k,) -> labels (...)."""
    check_tensor("x", x)
    check_tensor("secret", secret, ndim=1, integer=True)
    if x.ndim < 1 or len(secret) == 0:
        raise ValueError(f"x needs a last dimension and secret at least one coordinate, got x "
                         f"of shape {tuple(x.shape)} and secret {secret.tolist()}")
    if int(secret.min()) < 0 or int(secret.max()) >= x.shape[-1]:
        raise ValueError(f"secret coordinates must lie in [0, {x.shape[-1]}), "
                         f"got {secret.tolist()}")
    return x[..., secret].prod(-1)


def n_subsets(n: int, k: int) -> int:
    """How many k-subsets of n coordinates a learner must tell apart: C(n, k)."""
    n = check_int("n", n, minimum=1)
    return comb(n, check_int("k", k, minimum=1, maximum=n))


@dataclass(frozen=True)
class SparseParity:
    """A batch of independent sparse-parity tasks, member i with ``ns[i]`` inputs and secret
    ``secrets[i]`` (k coordinates). Calling it is a sampler for ``train``:
    ``(batch_size, generator) -> (x (S, B, n_max), y (S, B))``; each member draws its own
    samples, all from one generator in one call (a fixed order), padded coordinates are 0."""

    ns: tuple[int, ...]
    secrets: tuple[torch.Tensor, ...]

    def __post_init__(self) -> None:
        if len(self.ns) == 0 or len(self.ns) != len(self.secrets):
            raise ValueError(f"ns and secrets must be non-empty and of the same length, got "
                             f"{len(self.ns)} and {len(self.secrets)}")
        for i, (n, secret) in enumerate(zip(self.ns, self.secrets, strict=True)):
            check_int(f"ns[{i}]", n, minimum=1)
            check_tensor(f"secrets[{i}]", secret, ndim=1, integer=True)
            if len(secret) < 1 or int(secret.min()) < 0 or int(secret.max()) >= n:
                raise ValueError(f"secrets[{i}] must hold 1 to {n} coordinates in [0, {n}), "
                                 f"got {secret.tolist()}")

    @property
    def n_members(self) -> int:
        return len(self.ns)

    @property
    def n_max(self) -> int:
        return max(self.ns)

    def _mask(self) -> torch.Tensor:
        """(S, 1, n_max): 1 on each member's real coordinates, 0 on padding."""
        return (torch.arange(self.n_max) < torch.tensor(self.ns)[:, None]).float()[:, None, :]

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor,
                                                                             torch.Tensor]:
        """Fresh samples: x (S, B, n_max) in {-1, 0 (padding), +1}, y (S, B) in {-1, +1}."""
        batch_size = check_int("batch_size", batch_size, minimum=1)
        x = random_signs((self.n_members, batch_size, self.n_max), generator)
        if len(set(self.ns)) > 1:
            x.mul_(self._mask())
        if len({len(s) for s in self.secrets}) == 1:  # one k: gather every member at once
            index = torch.stack(self.secrets)[:, None, :].expand(-1, batch_size, -1)
            return x, x.gather(2, index).prod(-1)   # (S, B)
        return x, torch.stack([x[i][:, s].prod(-1) for i, s in enumerate(self.secrets)])

    def __call__(self, batch_size: int | None, generator: torch.Generator):
        if batch_size is None:
            raise ValueError("sparse parity is an online task: give TrainConfig a batch_size")
        return self.sample(batch_size, generator)

    def member_sampler(self, i: int):
        """A sampler for member i alone that reproduces exactly the samples member i sees in the
        batched run (it draws the whole batch and keeps row i): x (B, n_i), y (B,)."""
        i = check_int("i", i, minimum=0, maximum=self.n_members - 1)

        def sample(batch_size: int | None, generator: torch.Generator):
            x, y = self(batch_size, generator)
            return x[i, :, : self.ns[i]], y[i]

        return sample

    def fixed_set(self, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed (offline) set, e.g. for testing: x (S, size, n_max), y (S, size)."""
        seed = check_int("seed", seed, minimum=0)
        return self.sample(check_int("size", size, minimum=1),
                           torch.Generator().manual_seed(seed))


def sparse_parity(n: int | Sequence[int], k: int, seeds: Sequence[int] = (0,)) -> SparseParity:
    """Sparse-parity tasks for every (n, seed) pair (n may be one int or several), each with the
    secret ``parity_secret(n, k, seed)``; members ordered n-major, then seed."""
    ns = [n] if isinstance(n, int) else list(n)
    if not ns or not list(seeds):
        raise ValueError(f"n and seeds must be non-empty, got n={n!r}, seeds={list(seeds)}")
    k = check_int("k", k, minimum=1)
    for i, value in enumerate(ns):
        check_int(f"n[{i}]" if len(ns) > 1 else "n", value, minimum=k)
    pairs = [(m, s) for m in ns for s in seeds]
    return SparseParity(tuple(m for m, _ in pairs),
                        tuple(parity_secret(m, k, s) for m, s in pairs))
