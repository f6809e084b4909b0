"""Task generators: every dataset of the course is made here, seeded, with nothing downloaded."""

from .addition import AdditionData, addition_problems, from_digits, to_digits
from .conditionals import ConditionalPrograms, conditional_programs, run_program
from .hops import HopTask, chase, hop_task
from .induction import periodic_sampler, periodic_sequences, repeated_sequences
from .modular import ModularData, all_pairs, is_prime, modular_addition
from .parity import SparseParity, n_subsets, parity_labels, parity_secret, sparse_parity
from .personas import DOMAIN_NAMES, PersonaCorpus, persona_corpus
from .sparse_features import as_density, geometric_importance, sparse_features
from .whitened import digits_two_class, linear_teacher, partial_whitening, whitened_inputs

__all__ = ["AdditionData", "addition_problems", "from_digits", "to_digits",
           "SparseParity", "n_subsets", "parity_labels", "parity_secret", "sparse_parity",
           "periodic_sampler", "periodic_sequences", "repeated_sequences",
           "ModularData", "all_pairs", "is_prime", "modular_addition",
           "DOMAIN_NAMES", "PersonaCorpus", "persona_corpus",
           "as_density", "geometric_importance", "sparse_features",
           "digits_two_class", "linear_teacher", "partial_whitening", "whitened_inputs",
           "ConditionalPrograms", "conditional_programs", "run_program",
           "HopTask", "chase", "hop_task"]
