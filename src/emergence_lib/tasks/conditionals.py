"""Nested if-then-else programs with a one-token answer (chapter 9, part 1: the recipe's task).

A program binds variables to values, then runs a chain of nested conditionals; the answer is the
label of the leaf it reaches:

    <bos> d = 4 ; a = 7 ; ... ; if a < 5 then K else if d == 4 then if ... else B else C ? K

Each of the ``depth`` levels compares a variable with a literal or with another variable; one of
its branches is a leaf and the other the next level (the innermost level has two leaves). The
side of the leaf, the operator and the operand values are drawn so that every leaf of the chain
is equally likely to be the answer and an operator (or a literal) says nothing about a
condition's truth on its own: only the bound values decide. Sequences are right-padded with
``PAD`` to ``n_ctx`` (so a causal read-out at ``?`` cannot see the padding).

Shapes: N programs, T = n_ctx positions, S = max_depth + 1 leaf slots.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from .._validate import _show, check_int

# --- the shared 256-token vocabulary ---
VOCAB_SIZE = 256
PAD, BOS, EQ, SEMI, IF, THEN, ELSE, QUERY = range(8)
OPS = ("<", ">", "==", "!=")
OP0 = 8                          # operator tokens 8..11, in the order of OPS
VALUE0, MAX_VALUES = 16, 16      # value tokens 16..31 stand for 0..15
VAR0, MAX_VARS = 32, 26          # variable tokens 32..57 are a..z
LABEL0, MAX_LABELS = 64, 26      # label (leaf) tokens 64..89 are A..Z; 90..255 are unused
SEED = 42
MIN_DEPTH, MAX_DEPTH = 3, 5

_NAMES = {PAD: "_", BOS: "<bos>", EQ: "=", SEMI: ";", IF: "if", THEN: "then", ELSE: "else",
          QUERY: "?"}
_NAMES.update({OP0 + i: op for i, op in enumerate(OPS)})
_NAMES.update({VALUE0 + i: str(i) for i in range(MAX_VALUES)})
_NAMES.update({VAR0 + i: chr(ord("a") + i) for i in range(MAX_VARS)})
_NAMES.update({LABEL0 + i: chr(ord("A") + i) for i in range(MAX_LABELS)})


def _holds(op: int, x: int, y: int) -> bool:
    return (x < y, x > y, x == y, x != y)[op]


def max_length(max_depth: int = MAX_DEPTH, n_vars: int = 8) -> int:
    """Tokens of the longest program including ``?`` and the answer: <bos>, 4 per binding,
    7 per level plus the innermost level's second leaf, ``?``, answer."""
    return 1 + 4 * n_vars + 7 * max_depth + 1 + 1 + 1


@dataclass(frozen=True)
class ConditionalPrograms:
    """A set of programs and what the shortcut baselines and C_i need.

    tokens (N, T) long, right-padded with PAD; answers (N,) the answer's label token;
    query_pos (N,) the index of ``?`` (the read-out: the model predicts the answer there) and
    answer_pos = query_pos + 1 (the answer token in ``tokens``); depth (N,); slot (N,) the
    answering leaf's level (0 = outermost; ``depth`` = the innermost level's second leaf);
    leaves (N, S) leaf labels by level (-1 past ``depth``); reading (N, S) leaf labels in
    reading order (-1 past the last); outer_guess (N,) what the outermost condition alone answers.
    """

    tokens: torch.Tensor
    answers: torch.Tensor
    query_pos: torch.Tensor
    depth: torch.Tensor
    slot: torch.Tensor
    leaves: torch.Tensor
    reading: torch.Tensor
    outer_guess: torch.Tensor

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def answer_pos(self) -> torch.Tensor:
        return self.query_pos + 1

    @property
    def n_ctx(self) -> int:
        return self.tokens.shape[1]

    @property
    def prompt_length(self) -> torch.Tensor:
        """Tokens up to and including ``?``: the keys the read-out query attends to (N,)."""
        return self.query_pos + 1

    def subset(self, index: slice | torch.Tensor) -> ConditionalPrograms:
        """The programs at ``index`` (a slice or an index tensor)."""
        return ConditionalPrograms(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def padded(self, n_ctx: int) -> ConditionalPrograms:
        """The same programs padded (or cut, never into a program) to ``n_ctx`` positions."""
        need = int(self.answer_pos.max()) + 1
        n_ctx = check_int("n_ctx", n_ctx, minimum=need)
        T = self.n_ctx
        if n_ctx <= T:
            tokens = self.tokens[:, :n_ctx].clone()
        else:
            tokens = torch.cat([self.tokens, torch.full((len(self), n_ctx - T), PAD)], dim=1)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return ConditionalPrograms(**{**values, "tokens": tokens})

    def log2_C_i(self, model: torch.nn.Module) -> np.ndarray:
        """The per-instance capacity of the concept, log2 C_i = log2 P + log2 H + log2 L +
        log2(F_i / F_ref), for ``model`` (a ``Transformer``) on each program (N,): F_i = FLOPs
        per token of a query that reads this program's prompt (``prompt_length`` keys). P, H and
        L are the model's, so C_i varies between programs only through their length."""
        from ..capacity import count_flops, count_params, instance_capacity, reference_flops

        lengths = self.prompt_length.numpy()
        flops = {n: count_flops(model, n_ctx=int(n)) for n in np.unique(lengths)}
        F = np.array([flops[n] for n in lengths], dtype=float)
        return np.asarray(instance_capacity(count_params(model), model.n_heads, model.n_layers,
                                            F, reference_flops(model.d_model)), dtype=float)


def _check_settings(n: int, min_depth: int, max_depth: int, n_ctx: int, n_vars: int,
                    n_values: int, n_labels: int, seed: int) -> None:
    check_int("n", n, minimum=1)
    check_int("min_depth", min_depth, minimum=1)
    check_int("max_depth", max_depth, minimum=min_depth)
    check_int("n_vars", n_vars, minimum=1, maximum=MAX_VARS)
    if n_vars < max_depth:
        raise ValueError(f"n_vars must be >= max_depth={max_depth} (every level reads its own "
                         f"variable), got n_vars={n_vars}")
    check_int("n_values", n_values, minimum=2, maximum=MAX_VALUES)
    check_int("n_labels", n_labels, minimum=2, maximum=MAX_LABELS)
    if n_labels < max_depth + 1:
        raise ValueError(f"n_labels must be >= max_depth + 1 = {max_depth + 1} (the leaves of a "
                         f"program have distinct labels), got n_labels={n_labels}")
    need = max_length(max_depth, n_vars)
    check_int("n_ctx", n_ctx, minimum=1)
    if n_ctx < need:
        raise ValueError(f"n_ctx must be >= {need}, the longest program with max_depth="
                         f"{max_depth} and n_vars={n_vars} (with ? and the answer), got {n_ctx}")
    check_int("seed", seed, minimum=0)


def _condition(rng: random.Random, want: bool, n_values: int) -> tuple[int, int, int]:
    """(op, value of x, value or literal of y) with ``x op y`` == want: (op, y) uniform among
    the pairs for which x can make the condition either true or false (so neither says anything
    about its truth: 'x < 0' never appears), then x's value uniform among those giving want."""
    while True:
        op, vy = rng.randrange(len(OPS)), rng.randrange(n_values)
        ok = [v for v in range(n_values) if _holds(op, v, vy) == want]
        if ok and len(ok) < n_values:
            return op, rng.choice(ok), vy


def _program(rng: random.Random, depth: int, n_vars: int, n_values: int, n_labels: int
             ) -> tuple[list[int], int, list[int], list[int], int]:
    """One program: (tokens without padding, answer slot, leaves by level, leaves in reading
    order, outer-condition guess)."""
    slot = rng.randrange(depth + 1)                           # every leaf equally likely
    names = rng.sample(range(MAX_VARS), n_vars)               # the bound variables
    values = [rng.randrange(n_values) for _ in range(n_vars)]  # distractors keep these
    labels = [LABEL0 + c for c in rng.sample(range(n_labels), depth + 1)]
    leaf_on_then = [rng.random() < 0.5 for _ in range(depth)]
    free = rng.sample(range(n_vars), n_vars)                  # indices not yet read, shuffled
    levels = []
    for level in range(depth):
        # true sends the run to the 'then' side: to this level's leaf if the answer is there,
        # else to the other side (the next level; the innermost level's second leaf, slot depth)
        want = leaf_on_then[level] if slot == level else not leaf_on_then[level]
        x = free.pop()
        # compare with a variable when one is left over for the deeper levels, else a literal
        spare = len(free) - (depth - 1 - level)
        y = free.pop() if spare > 0 and rng.random() < 0.5 else None
        op, vx, vy = _condition(rng, bool(want), n_values)
        values[x] = vx
        if y is not None:
            values[y] = vy
        operand = VAR0 + names[y] if y is not None else VALUE0 + vy
        levels.append((VAR0 + names[x], OP0 + op, operand))
    tokens = [BOS]
    for i in rng.sample(range(n_vars), n_vars):
        tokens += [VAR0 + names[i], EQ, VALUE0 + values[i], SEMI]

    reading: list[int] = []

    def chain(level: int) -> list[int]:
        x, op, operand = levels[level]
        head = [IF, x, op, operand, THEN]
        if level == depth - 1:
            first, second = ((labels[level], labels[depth]) if leaf_on_then[level]
                             else (labels[depth], labels[level]))
            reading.extend([first, second])
            return head + [first, ELSE, second]
        if leaf_on_then[level]:
            reading.append(labels[level])
            return head + [labels[level], ELSE] + chain(level + 1)
        inner = chain(level + 1)
        reading.append(labels[level])
        return head + inner + [ELSE, labels[level]]

    tokens += chain(0) + [QUERY, labels[slot]]
    # the outermost condition alone: its leaf if it picks the leaf, else the next level's leaf
    outer = labels[0] if slot == 0 else labels[1]
    return tokens, slot, labels, reading, outer


def conditional_programs(n: int, *, min_depth: int = MIN_DEPTH, max_depth: int = MAX_DEPTH,
                         n_ctx: int = 128, n_vars: int = 8, n_values: int = 10,
                         n_labels: int = 10, seed: int = SEED) -> ConditionalPrograms:
    """``n`` seeded programs of depth uniform in [min_depth, max_depth], each binding
    ``n_vars`` variables (a..z, distinct) to values 0..n_values-1 in a random order, leaves
    labelled with distinct labels out of ``n_labels``, right-padded to ``n_ctx`` tokens."""
    _check_settings(n, min_depth, max_depth, n_ctx, n_vars, n_values, n_labels, seed)
    rng = random.Random(seed)
    S = max_depth + 1
    tokens = np.full((n, n_ctx), PAD, dtype=np.int64)
    answers, query, depth, slot = (np.zeros(n, dtype=np.int64) for _ in range(4))
    leaves, reading = np.full((n, S), -1, dtype=np.int64), np.full((n, S), -1, dtype=np.int64)
    outer = np.zeros(n, dtype=np.int64)
    for i in range(n):
        d = rng.randint(min_depth, max_depth)
        row, slot[i], by_level, in_order, outer[i] = _program(rng, d, n_vars, n_values, n_labels)
        tokens[i, :len(row)] = row
        answers[i], query[i], depth[i] = row[-1], len(row) - 2, d
        leaves[i, :d + 1], reading[i, :d + 1] = by_level, in_order
    t = torch.from_numpy
    return ConditionalPrograms(t(tokens), t(answers), t(query), t(depth), t(slot), t(leaves),
                               t(reading), t(outer))


# --- reading programs back ---

def _check_tokens(tokens: object) -> list[int]:
    if isinstance(tokens, torch.Tensor):
        if tokens.ndim != 1 or tokens.is_floating_point():
            raise ValueError(f"tokens must be one program, a 1-D integer tensor, got "
                             f"{tokens.dtype} of shape {tuple(tokens.shape)}")
        tokens = tokens.tolist()
    if isinstance(tokens, np.ndarray):
        tokens = tokens.tolist()
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
        raise TypeError(f"tokens must be a sequence of token ids, got {_show(tokens)}")
    out = []
    for t in tokens:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < VOCAB_SIZE:
            raise ValueError(f"tokens must hold ids in [0, {VOCAB_SIZE}), got {_show(t)}")
        out.append(int(t))
    return out


def describe(tokens: object) -> str:
    """One program as text, padding left out, the answer after ``?``:
    'a = 7 ; ... ; if a < 5 then K else ... ? K'."""
    ids = _check_tokens(tokens)
    return " ".join(_NAMES.get(t, f"<{t}>") for t in ids if t not in (PAD, BOS))


def run_program(tokens: object) -> int:
    """Interpret a program (its tokens up to ``?``) and return the label token it reaches; an
    independent check of the generator's answers."""
    ids = _check_tokens(tokens)
    if QUERY not in ids:
        raise ValueError("tokens must contain the ? token that ends a program")
    ids = ids[:ids.index(QUERY)]
    env: dict[int, int] = {}
    i = 1 if ids and ids[0] == BOS else 0
    while i < len(ids) and ids[i] != IF:
        var, eq, value, semi = ids[i:i + 4]
        if eq != EQ or semi != SEMI:
            raise ValueError(f"a binding must read 'var = value ;', got {describe(ids[i:i + 4])}")
        env[var] = value - VALUE0
        i += 4

    def operand(t: int) -> int:
        return env[t] if VAR0 <= t < VAR0 + MAX_VARS else t - VALUE0

    def branch(j: int) -> tuple[int, int]:
        """The label the expression starting at j reaches, and the index after it."""
        if ids[j] != IF:
            return ids[j], j + 1
        x, op, y = ids[j + 1:j + 4]
        truth = _holds(op - OP0, env[x], operand(y))
        then_value, j = branch(j + 5)
        else_value, j = branch(j + 1)                        # skip ELSE
        return (then_value if truth else else_value), j

    label, _ = branch(i)
    return label


def to_hf_dataset(programs: ConditionalPrograms):
    """The programs as a Hugging Face ``datasets.Dataset`` (columns tokens, answer, query_pos,
    depth, slot), built with ``Dataset.from_generator``; needs the optional package datasets."""
    if not isinstance(programs, ConditionalPrograms):
        raise TypeError(f"programs must be ConditionalPrograms, got {type(programs).__name__}")
    try:
        import datasets
    except ImportError:
        raise ImportError("to_hf_dataset needs the optional package 'datasets' "
                          "(pip install datasets); the rest of tasks.conditionals works "
                          "without it") from None

    def rows(tokens: list, answers: list, query: list, depth: list, slot: list
             ) -> Iterator[dict]:
        for t, a, q, d, s in zip(tokens, answers, query, depth, slot, strict=True):
            yield {"tokens": t, "answer": a, "query_pos": q, "depth": d, "slot": s}

    return datasets.Dataset.from_generator(rows, gen_kwargs={
        "tokens": programs.tokens.tolist(), "answers": programs.answers.tolist(),
        "query": programs.query_pos.tolist(), "depth": programs.depth.tolist(),
        "slot": programs.slot.tolist()})


__all__ = ["ConditionalPrograms", "conditional_programs", "describe", "run_program",
           "to_hf_dataset", "max_length", "VOCAB_SIZE", "PAD", "QUERY", "SEED",
           "MIN_DEPTH", "MAX_DEPTH"]
