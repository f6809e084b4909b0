"""k-hop pointer chasing on a random cycle (chapter 9, part 2): a task whose depth requirement
is structural.

Each example is a random cyclic permutation f of ``n_nodes`` nodes (one cycle through every
node, so f^k(s) != s for 0 < k < n_nodes: no identity shortcut), written as ``n_nodes`` pair
tokens ``a * n_nodes + f(a)`` in random order, then one query token for a node s. The model
answers every hop count at once: the read-out of hop k (k = 1..hops) is the node f^k(s), read
from its own block of answer tokens at the last position (all k trained in one model, as
Sanford, Hsu and Telgarsky do, with one read-out per k instead of a k token).

Layout (T = n_nodes + 1 positions, vocab = n_nodes**2 + n_nodes + hops * n_nodes):

    positions 0 .. n_nodes-1   pair tokens, id a * n_nodes + f(a)            (shuffled)
    position  n_nodes          query token, id n_nodes**2 + s
    answers                    id n_nodes**2 + n_nodes + (k - 1) * n_nodes + node, hop k

Why depth: a layer's attention at the query can fetch one pair (one hop), so L layers
following arrows one by one reach L hops; pair positions can also fetch the pair that follows
theirs (pointer doubling, as in Sanford, Hsu and Telgarsky's log-depth construction), which lets
L layers reach 2**L - 1 hops at the read-out. Chaining, one layer reaches one hop. What one
hop of attention can also give without chasing (s, f(s) and f^-1(s) excluded) leaves
1 / (n_nodes - 3) for k >= 2: the ``exclusion`` baseline, the "chance" of a one-layer model
that chases. It is not a bound on every one-layer model: with few nodes there are only
n_nodes**2 possible arrows, and a wide enough single layer can learn more without chaining
(``recipes.hops.PROBES``: 8 heads, 8 nodes, two hops at 0.86).

Shapes: B batch, T positions, K hops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validate import check_int

MAX_NODES = 64    # pair tokens grow as n_nodes**2


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. torch.Generator()."
                        f"manual_seed(0)), got {type(generator).__name__}")
    return generator


@dataclass(frozen=True)
class HopTask:
    """The k-hop task on ``n_nodes`` nodes with read-outs for hops 1..``hops``
    (build it with ``hop_task``, which checks the arguments)."""

    n_nodes: int
    hops: int

    @property
    def n_pairs(self) -> int:
        """Pair-token ids 0 .. n_nodes**2 - 1."""
        return self.n_nodes ** 2

    @property
    def query_offset(self) -> int:
        """Id of the query token of node 0."""
        return self.n_pairs

    @property
    def answer_offset(self) -> int:
        """Id of the answer token of hop 1, node 0."""
        return self.n_pairs + self.n_nodes

    @property
    def vocab(self) -> int:
        return self.answer_offset + self.hops * self.n_nodes

    @property
    def chance(self) -> float:
        """The exclusion baseline for k >= 2: 1 / (n_nodes - 3), one guess among the nodes
        other than s, f(s) and f^-1(s) (three distinct nodes on a cycle of n_nodes >= 4)."""
        return 1.0 / (self.n_nodes - 3)

    @property
    def n_ctx(self) -> int:
        """Positions of an example: the pairs and the query."""
        return self.n_nodes + 1

    def pair_token(self, src: torch.Tensor | int, dst: torch.Tensor | int) -> torch.Tensor:
        """The id of the pair token src -> dst."""
        return torch.as_tensor(src) * self.n_nodes + torch.as_tensor(dst)

    def sample_graphs(self, batch: int, generator: torch.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random cycles f (B, N) with f[b, a] = f_b(a), shuffled pair orders (B, N) (the source
        node at each position) and query nodes (B,)."""
        batch = check_int("batch", batch, minimum=1)
        generator = _check_generator(generator)
        N = self.n_nodes
        order = torch.rand(batch, N, generator=generator).argsort(1)   # a random cycle order
        f = torch.empty(batch, N, dtype=torch.long)
        f.scatter_(1, order, order.roll(-1, 1))                        # order[i] -> order[i+1]
        sources = torch.rand(batch, N, generator=generator).argsort(1)  # pair at each position
        query = torch.randint(N, (batch,), generator=generator)
        return f, sources, query

    def sample(self, batch: int, generator: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, T) and answers (B, K): answers[b, k - 1] = f_b^k(s_b), a node in [0, N)."""
        f, sources, query = self.sample_graphs(batch, generator)
        pairs = self.pair_token(sources, f.gather(1, sources))          # (B, N)
        tokens = torch.cat([pairs, (self.query_offset + query)[:, None]], 1)
        return tokens, chase(f, query, self.hops)

    def sampler(self):
        """A sampler for ``train``: ``(batch_size, generator) -> (tokens, answers)``, fresh
        graphs at every step."""
        def sample(batch_size: int | None, generator: torch.Generator):
            if batch_size is None:
                raise ValueError("the hop task draws fresh data: give TrainConfig a batch_size")
            return self.sample(batch_size, generator)

        return sample

    def _check_tokens(self, tokens: object) -> torch.Tensor:
        if (not isinstance(tokens, torch.Tensor) or tokens.ndim != 2
                or tokens.is_floating_point() or tokens.dtype == torch.bool):
            raise TypeError(f"tokens must be an integer tensor of shape (batch, {self.n_ctx}), "
                            f"got {getattr(tokens, 'dtype', type(tokens).__name__)} of shape "
                            f"{tuple(getattr(tokens, 'shape', ()))}")
        if tokens.shape[1] != self.n_ctx:
            raise ValueError(f"tokens must have {self.n_ctx} positions (n_nodes pairs and the "
                             f"query), got shape {tuple(tokens.shape)}")
        pairs, query = tokens[:, :-1], tokens[:, -1]
        if len(tokens) and (int(pairs.min()) < 0 or int(pairs.max()) >= self.n_pairs
                            or int(query.min()) < self.query_offset
                            or int(query.max()) >= self.answer_offset):
            raise ValueError(f"tokens must hold pair ids in [0, {self.n_pairs}) and a query id "
                             f"in [{self.query_offset}, {self.answer_offset}) last")
        return tokens

    def decode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The cycle f (B, N) and query nodes (B,) written in ``tokens`` (B, T)."""
        tokens = self._check_tokens(tokens)
        pairs = tokens[:, :-1]
        f = torch.empty_like(pairs)
        f.scatter_(1, pairs // self.n_nodes, pairs % self.n_nodes)
        return f, tokens[:, -1] - self.query_offset

    def decisive_positions(self, tokens: torch.Tensor) -> torch.Tensor:
        """positions (B, K): [b, k - 1] = the position of the pair f^(k-1)(s) -> f^k(s), the pair
        hop k reads. The answer of hop k depends on the pairs at positions[:, :k]."""
        f, query = self.decode(tokens)
        position = (tokens[:, :-1] // self.n_nodes).argsort(1)  # position of each source node
        chain = torch.cat([query[:, None], chase(f, query, self.hops - 1)], 1) \
            if self.hops > 1 else query[:, None]                  # f^0(s) .. f^(K-1)(s)
        return position.gather(1, chain)

    def readout(self, logits: torch.Tensor) -> torch.Tensor:
        """The answer logits of the last position: (B, vocab) or (B, T, vocab) -> (B, K, N)."""
        if logits.ndim == 3:
            logits = logits[:, -1]
        if logits.ndim != 2 or logits.shape[-1] != self.vocab:
            raise ValueError(f"logits must have shape (batch, {self.vocab}) or (batch, "
                             f"positions, {self.vocab}), got {tuple(logits.shape)}")
        return logits[:, self.answer_offset:].reshape(len(logits), self.hops, self.n_nodes)

    def shortcut_baselines(self, n: int = 20_000, seed: int = 0) -> dict[str, list[float]]:
        """Accuracy per hop (list over k = 1..K) of answers that chase no pointers, measured on
        ``n`` fresh examples: the most frequent answer, answer = query, answer = one hop
        (f(s)), uniform over nodes != s (``uniform``, expected value), and ``exclusion``: uniform
        over the nodes not in {s, f(s), f^-1(s)} (what one layer of attention can rule out;
        exact expectation, 1 at k = 1)."""
        n = check_int("n", n, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        tokens, answers = self.sample(n, torch.Generator().manual_seed(seed))
        f, query = self.decode(tokens)
        N, K = self.n_nodes, self.hops
        counts = torch.stack([torch.bincount(answers[:, k], minlength=N) for k in range(K)])
        frequent = counts.argmax(1)                                       # (K,)
        one_hop = f.gather(1, query[:, None])                             # (B, 1)
        exclusion = [1.0] + [self.chance] * (K - 1)
        return {"most_frequent": (answers == frequent).float().mean(0).tolist(),
                "answer_is_query": (answers == query[:, None]).float().mean(0).tolist(),
                "one_hop": (answers == one_hop).float().mean(0).tolist(),
                "uniform": [1.0 / (N - 1)] * K,
                "exclusion": exclusion}


def chase(f: torch.Tensor, start: torch.Tensor, hops: int) -> torch.Tensor:
    """f (B, N) as a map, start nodes (B,) -> (B, hops): f^1(start) .. f^hops(start)."""
    hops = check_int("hops", hops, minimum=1)
    node, out = start.long(), []
    for _ in range(hops):
        node = f.gather(1, node[:, None])[:, 0]
        out.append(node)
    return torch.stack(out, 1)


def hop_task(n_nodes: int = 8, hops: int = 3) -> HopTask:
    """The k-hop task on ``n_nodes`` nodes, read-outs for hops 1..``hops``.

    hops < n_nodes / 2 keeps every answer more than one exclusion away from trivial: with
    n_nodes = 2 * hops, f^hops(s) = f^-hops(s) is the one node left once s, f^+-1(s), ...,
    f^+-(hops-1)(s) are ruled out, a shortcut that needs fewer hops of depth."""
    n_nodes = check_int("n_nodes", n_nodes, minimum=4, maximum=MAX_NODES)
    hops = check_int("hops", hops, minimum=1)
    if 2 * hops >= n_nodes:
        raise ValueError(f"hops must be < n_nodes / 2 = {n_nodes / 2:g} (else f^hops(s) is "
                         f"found by ruling out the nearer nodes in both directions), got "
                         f"hops={hops} with n_nodes={n_nodes}")
    return HopTask(n_nodes, hops)


__all__ = ["HopTask", "hop_task", "chase", "MAX_NODES"]
