"""Chapter 6's exercise checkers: the reference passes, a stub is "not attempted", a known mistake
gets its hint."""

from __future__ import annotations

import numpy as np

from emergence_lib.exercises.ch06 import (
    check_harmful_rate,
    check_local_cosine,
    harmful_rate_reference,
    local_cos_reference,
)


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_references_pass_and_stubs_are_not_attempted():
    assert check_harmful_rate(harmful_rate_reference) and check_local_cosine(local_cos_reference)
    for check in (check_harmful_rate, check_local_cosine):
        result = check(_stub)
        assert not result.passed and not result.attempted and "not attempted" in result.message


def test_known_mistakes_get_their_hint():
    def wald(hits):
        p, n = float(np.mean(hits)), len(hits)
        half = 1.96 * np.sqrt(p * (1 - p) / n)
        return p, max(0.0, p - half), min(1.0, p + half)

    assert "Wilson" in check_harmful_rate(wald).message

    def forward(vectors, k):
        v = np.asarray(vectors, dtype=float)
        out = np.full(len(v), np.nan)
        for t in range(k, len(v) - k):
            a, b = v[t] - v[t - k], v[t + k] - v[t]
            out[t] = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        return out

    assert "straight path gives -1" in check_local_cosine(forward).message
