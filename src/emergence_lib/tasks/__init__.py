"""Task generators: every dataset of the course is made here, seeded, with nothing downloaded."""

from .addition import AdditionData, addition_problems, from_digits, to_digits

__all__ = ["AdditionData", "addition_problems", "from_digits", "to_digits"]
