"""Computed verdicts: each chapter's conclusion as a function of its numbers.

A chapter's verdict cell calls its criterion here (``checks.chNN``), prints ``verdict.sentence``
and the check cell calls ``verdict.require()``, so the sentence the reader sees and the condition
that fails the build are one and the same. Unit tests feed each criterion counter-examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CheckFailed(RuntimeError):
    """Raised by a chapter's check cell when its run does not show the claim it prints."""


@dataclass(frozen=True)
class Verdict:
    """What a chapter concludes from its run: pass/fail, the sentence, and the numbers behind it.

    ``passed`` is the condition the check cell asserts; ``sentence`` is what the chapter prints
    (true whichever way it came out); ``numbers`` are the values the condition compared.
    """

    passed: bool
    sentence: str
    numbers: dict[str, float] = field(default_factory=dict)
    failures: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.sentence

    def require(self) -> Verdict:
        """Raise ``CheckFailed`` naming every failed condition unless the verdict passed."""
        if not self.passed:
            reasons = "; ".join(self.failures) or "the criterion was not met"
            raise CheckFailed(f"{self.sentence} -- check failed: {reasons}")
        return self


def verdict(conditions: dict[str, tuple[bool, str]], sentence: str,
            numbers: dict[str, float] | None = None) -> Verdict:
    """Build a ``Verdict`` from named conditions ``{name: (holds, message if it does not)}``."""
    failures = tuple(f"{name}: {message}" for name, (holds, message) in conditions.items()
                     if not holds)
    return Verdict(passed=not failures, sentence=sentence, numbers=dict(numbers or {}),
                   failures=failures)
