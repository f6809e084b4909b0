"""Argument checks shared by every public function: each error names the argument, its value
and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Sequence, Sized
from numbers import Integral, Real

import numpy as np
import torch


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value: object, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` if it is not a whole number in range."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {_show(value)} "
                        f"of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(name: str, value: object, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False,
                strict_max: bool = False) -> float:
    """Return ``value`` as a finite float in the given range, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {_show(value)} "
                        f"of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict_min else value < minimum):
        raise ValueError(f"{name} must be {'>' if strict_min else '>='} {minimum}, got {value}")
    if maximum is not None and (value >= maximum if strict_max else value > maximum):
        raise ValueError(f"{name} must be {'<' if strict_max else '<='} {maximum}, got {value}")
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {_show(value)}")
    return value  # type: ignore[return-value]


def as_1d_array(name: str, values: object, *, min_len: int = 1, positive: bool = False,
                in_unit_interval: bool = False) -> np.ndarray:
    """Return ``values`` as a finite 1-D float array, or raise naming ``name``."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a sequence of numbers, got {_show(values)}") from err
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if len(arr) < min_len:
        raise ValueError(f"{name} must have at least {min_len} values, got {len(arr)}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be finite numbers, got {arr[i]} at index {i} "
                         f"({int(bad.sum())} non-finite values)")
    if positive and (arr <= 0).any():
        i = int(np.flatnonzero(arr <= 0)[0])
        raise ValueError(f"{name} must be > 0 (it is used on a log scale), got {arr[i]} "
                         f"at index {i}")
    if in_unit_interval and ((arr < 0) | (arr > 1)).any():
        i = int(np.flatnonzero((arr < 0) | (arr > 1))[0])
        raise ValueError(f"{name} must lie in [0, 1], got {arr[i]} at index {i}")
    return arr


def check_same_length(**arrays: Sized) -> None:
    """Raise if the named arrays do not all have the same length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise ValueError(f"{' and '.join(lengths)} must have the same length: {shown}")


def check_tensor(name: str, value: object, *, ndim: int | None = None,
                 integer: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the given rank (and integer dtype), else raise."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}")
    if integer and (value.is_floating_point() or value.is_complex()):
        raise TypeError(f"{name} must hold integer token ids, got dtype {value.dtype}")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return value
