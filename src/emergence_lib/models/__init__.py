"""Model families, one file each."""

from .batched_mlp import BatchedMLP, OneHiddenMLP, seeded_mlps
from .mlp import DigitMLP
from .transformer import Transformer

__all__ = ["BatchedMLP", "OneHiddenMLP", "seeded_mlps", "DigitMLP", "Transformer"]
