"""emergence_lib: the small library shared by every chapter of *Emergence in Neural Networks*.

Modules: tasks (data generators), models, train (the one training loop), metrics, fit (the
logistic in log-x), detect (transitions), plotting, references (published numbers), recipes
(reference setups), exercises (checkers).
"""

__version__ = "0.1.0"
