"""Published numbers quoted by the course, each with its citation key in book/references.bib."""

from __future__ import annotations

import numpy as np

from ._validate import as_1d_array

# Hoffmann et al. (2022), Chinchilla, approach 3: L(N, D) = E + A / N**alpha + B / D**beta.
CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28,
              "cite": "hoffmann2022chinchilla"}

# Wei et al. (2022), Table 1: the scale at which a few-shot task first beats chance.
WEI_EMERGENCE = [
    {"task": "3-digit addition", "model": "GPT-3", "params": 13e9, "flops": 2.3e22},
    {"task": "4-5 digit addition", "model": "GPT-3", "params": 175e9, "flops": 3.1e23},
    {"task": "MMLU", "model": "GPT-3", "params": 175e9, "flops": 3.1e23},
    {"task": "WiC", "model": "PaLM", "params": 540e9, "flops": 2.5e24},
]
WEI_CITE = "wei2022emergent"

# Brown et al. (2020), GPT-3 175B few-shot arithmetic accuracy.
GPT3_ARITHMETIC = {"2-digit addition": 1.00, "3-digit addition": 0.802,
                   "4-digit addition": 0.25, "5-digit addition": 0.095,
                   "2-digit multiplication": 0.292}
GPT3_CITE = "brown2020gpt3"

# Brown et al. (2020), section 3.9.1, on the 13B model (few-shot): "can solve 2 digit addition and
# subtraction only half the time, and all other operations less than 10% of the time". The text
# gives no exact values: 0.5 is "half", and the others are upper bounds (GPT3_13B_UPPER_BOUND).
GPT3_13B_UPPER_BOUND = 0.10
GPT3_ARITHMETIC_13B = {name: (0.5 if name == "2-digit addition" else GPT3_13B_UPPER_BOUND)
                       for name in GPT3_ARITHMETIC}
# Training compute of the two GPT-3 sizes above, as Wei et al. (2022, Table 1) give it.
GPT3_FLOPS = {row["params"]: row["flops"] for row in WEI_EMERGENCE if row["model"] == "GPT-3"}

# Compute-optimal training (Hoffmann et al. 2022): about 20 tokens per parameter, and the usual
# estimate of training compute C = 6 N D FLOPs.
TOKENS_PER_PARAM = 20
FLOPS_PER_PARAM_TOKEN = 6


def chinchilla_loss(n_params: object, n_tokens: object) -> np.ndarray:
    """Chinchilla's fitted loss (nats/token) for N parameters trained on D tokens."""
    n = as_1d_array("n_params", np.atleast_1d(n_params), positive=True)
    d = as_1d_array("n_tokens", np.atleast_1d(n_tokens), positive=True)
    c = CHINCHILLA
    return c["E"] + c["A"] / n ** c["alpha"] + c["B"] / d ** c["beta"]


def compute_optimal_flops(n_params: object) -> np.ndarray:
    """Training FLOPs C = 6 N D of a compute-optimal model (D = 20 N tokens): (n,) -> (n,)."""
    n = as_1d_array("n_params", np.atleast_1d(n_params), positive=True)
    return FLOPS_PER_PARAM_TOKEN * n * (TOKENS_PER_PARAM * n)


def compute_optimal_params(flops: object) -> np.ndarray:
    """Parameters N of the compute-optimal model for a training budget of C FLOPs: (n,) -> (n,)."""
    c = as_1d_array("flops", np.atleast_1d(flops), positive=True)
    return np.sqrt(c / (FLOPS_PER_PARAM_TOKEN * TOKENS_PER_PARAM))
