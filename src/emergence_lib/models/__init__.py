"""Model families, one file each."""

from .mlp import DigitMLP

__all__ = ["DigitMLP"]
