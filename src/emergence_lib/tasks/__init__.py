"""Task generators: every dataset of the course is made here, seeded, with nothing downloaded."""

from .addition import AdditionData, addition_problems, from_digits, to_digits
from .modular import ModularData, all_pairs, is_prime, modular_addition

__all__ = ["AdditionData", "addition_problems", "from_digits", "to_digits",
           "ModularData", "all_pairs", "is_prime", "modular_addition"]
