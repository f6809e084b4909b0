"""Exporting a trained model so it runs without this library: ``torch.export`` (an
ExportedProgram saved as a ``.pt2`` file and reloaded) and TorchScript by tracing, each with a
check that the reloaded model gives the original's outputs.

What works with torch 2.13 (tests/test_export.py):

- ``torch.export.export`` of the library ``Transformer`` itself: while compiling, its forward
  checks the token ids' range with ``torch._check`` runtime assertions in the graph instead of
  a Python branch on data. The reloaded program's outputs are identical to the model's (max abs
  difference 0.0 in the tests, batch sizes 1 to 7, lengths 1 to ``n_ctx``, with and without
  head gates).
- ``torch.jit.script`` fails (TorchScript does not compile the comprehensions of
  ``Transformer.forward``). ``torch.jit.trace`` works and gives
  identical outputs at other batch sizes and lengths, but torch 2.13 marks it deprecated
  ("Please switch to torch.compile or torch.export"): ``trace_torchscript`` is kept for old
  deployments (``save_torchscript``/``load_torchscript`` silence the same warning of
  ``torch.jit.save``/``load``); the .pt2 path is the one to use.

Other modules (e.g. ``DigitMLP``, which skips its value check while compiling) are exported as
they are.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn as nn

from ._validate import check_int, check_tensor
from .models.transformer import Transformer


def _traceable(model: nn.Module) -> nn.Module:
    return model.eval()


def _example(model: nn.Module, example_tokens: object) -> torch.Tensor:
    tokens = check_tensor("example_tokens", example_tokens, ndim=2, integer=True)
    if tokens.shape[0] < 1 or tokens.shape[1] < 1:
        raise ValueError(f"example_tokens must have at least one row and one position, "
                         f"got shape {tuple(tokens.shape)}")
    vocab = getattr(model, "vocab", None)
    if vocab is not None and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab):
        raise ValueError(f"example_tokens must hold ids in [0, {vocab}), got values from "
                         f"{int(tokens.min())} to {int(tokens.max())}")
    n_ctx = getattr(model, "n_ctx", None)
    if n_ctx is not None and tokens.shape[1] > n_ctx:
        raise ValueError(f"example_tokens must have at most n_ctx={n_ctx} positions, "
                         f"got {tokens.shape[1]}")
    return tokens


def export_model(model: nn.Module, example_tokens: torch.Tensor, *, dynamic: bool = True,
                 max_batch: int = 4096) -> torch.export.ExportedProgram:
    """``model`` as a torch.export ExportedProgram traced on ``example_tokens`` (B, T).

    dynamic: the program accepts any batch size up to ``max_batch`` and, for a Transformer, any
    length from 1 to ``n_ctx`` (otherwise only the example's shape). Call ``.module()`` on the
    result (or on ``load_exported(path)``) to run it: tokens (B, T) -> the model's output.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    tokens = _example(model, example_tokens)
    max_batch = check_int("max_batch", max_batch, minimum=2)
    shapes = None
    if dynamic:
        Dim = torch.export.Dim
        # export specialises a dimension whose example size is 1, so trace on at least 2
        dims = {0: Dim("batch", min=1, max=max_batch)}
        if tokens.shape[0] == 1:
            tokens = tokens.repeat(2, 1)
        n_ctx = getattr(model, "n_ctx", None)
        if isinstance(model, Transformer) and n_ctx >= 2:
            dims[1] = Dim("positions", min=1, max=n_ctx)
            if tokens.shape[1] == 1:
                tokens = tokens.repeat(1, 2)
        shapes = (dims,)
    with torch.no_grad():
        return torch.export.export(_traceable(model), (tokens,), dynamic_shapes=shapes)


def _path(name: str, path: object) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a str or pathlib.Path, got {type(path).__name__}")
    return Path(path)


def save_exported(program: torch.export.ExportedProgram, path: str | Path) -> Path:
    """Write ``program`` to ``path`` (conventionally ``*.pt2``); returns the path."""
    if not isinstance(program, torch.export.ExportedProgram):
        raise TypeError(f"program must be a torch.export.ExportedProgram (from export_model), "
                        f"got {type(program).__name__}")
    path = _path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.export.save(program, path)
    return path


def load_exported(path: str | Path) -> torch.export.ExportedProgram:
    """The ExportedProgram saved at ``path``; ``.module()`` runs it, no library code needed."""
    path = _path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no exported program at {path}")
    return torch.export.load(path)


def trace_torchscript(model: nn.Module, example_tokens: torch.Tensor) -> torch.jit.ScriptModule:
    """``model`` traced to TorchScript on ``example_tokens`` (B, T); any batch size and length
    up to ``n_ctx`` then run. Deprecated by torch 2.13 (its warning is silenced here); the ids'
    range is not checked inside the traced graph."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    tokens = _example(model, example_tokens)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\..* is deprecated")
        # the forward's Python-side id check is not recorded (it does not change the outputs)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        return torch.jit.trace(_traceable(model), (tokens,))


def save_torchscript(module: torch.jit.ScriptModule, path: str | Path) -> Path:
    """Write a traced module (from ``trace_torchscript``) to ``path``; returns the path."""
    if not isinstance(module, torch.jit.ScriptModule):
        raise TypeError(f"module must be a torch.jit.ScriptModule (from trace_torchscript), "
                        f"got {type(module).__name__}")
    path = _path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\..* is deprecated")
        torch.jit.save(module, str(path))
    return path


def load_torchscript(path: str | Path) -> torch.jit.ScriptModule:
    """The TorchScript module saved at ``path``."""
    path = _path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no TorchScript module at {path}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\..* is deprecated")
        return torch.jit.load(str(path))


def check_roundtrip(model: nn.Module, reloaded: object, tokens: torch.Tensor) -> float:
    """Max absolute difference between ``model(tokens)`` and the reloaded model's output on
    ``tokens`` (B, T); 0.0 means identical. ``reloaded``: an ExportedProgram, a TorchScript
    module or any module."""
    tokens = check_tensor("tokens", tokens, ndim=2, integer=True)
    if isinstance(reloaded, torch.export.ExportedProgram):
        reloaded = reloaded.module()
    if not callable(reloaded):
        raise TypeError(f"reloaded must be an ExportedProgram or a module, "
                        f"got {type(reloaded).__name__}")
    model.eval()
    with torch.no_grad():
        want, got = model(tokens), reloaded(tokens)
    if got.shape != want.shape:
        raise ValueError(f"the reloaded model's output has shape {tuple(got.shape)}, the "
                         f"model's {tuple(want.shape)}")
    return float((got.float() - want.float()).abs().max()) if want.numel() else 0.0
