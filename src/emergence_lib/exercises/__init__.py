"""Exercise checkers: run a student's function against the reference on fixed inputs and say
what is wrong in plain words."""

from .core import CheckResult, check_function

__all__ = ["CheckResult", "check_function"]
