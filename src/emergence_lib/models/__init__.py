"""Model families, one file each."""

from .batched_mlp import BatchedMLP, OneHiddenMLP, seeded_mlps
from .mlp import DigitMLP
from .modular_mlp import SquaredEmbeddingMLP
from .transformer import Transformer

__all__ = ["BatchedMLP", "OneHiddenMLP", "seeded_mlps", "DigitMLP", "Transformer",
           "SquaredEmbeddingMLP"]
