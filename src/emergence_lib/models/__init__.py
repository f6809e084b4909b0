"""Model families, one file each."""

from .batched_mlp import BatchedMLP, OneHiddenMLP, seeded_mlps
from .linear_nets import DeepLinear, TwoLayerReLU
from .lora import LoRALinear, attach_lora, lora_adapters
from .mlp import DigitMLP
from .modular_mlp import SquaredEmbeddingMLP
from .toy_superposition import BatchedToyModel, ToyModel, instance_losses, seeded_toy_models
from .transformer import Transformer

__all__ = ["BatchedMLP", "OneHiddenMLP", "seeded_mlps", "DigitMLP", "Transformer",
           "SquaredEmbeddingMLP", "LoRALinear", "attach_lora", "lora_adapters",
           "BatchedToyModel", "ToyModel", "instance_losses", "seeded_toy_models",
           "DeepLinear", "TwoLayerReLU"]
