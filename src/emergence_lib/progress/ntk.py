"""Chapter 8's progress measures: the empirical neural tangent kernel of a model on a set of
inputs (exact, by torch.func), kernel-target alignment (Cortes et al.; Atanasov et al. 2021),
the kernel's scale, and a linear network's mode strengths on its teacher's singular vectors."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.func import functional_call, jacrev, vmap

from .._validate import check_tensor


def param_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d f(x_i) / d theta for every input: x (P, d) -> (P * d_out, n_params), outputs flattened
    sample-major (a scalar-output model gives (P, n_params))."""
    check_tensor("x", x, ndim=2)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def f(p: dict, xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, p, (xi[None],)).reshape(-1)       # (d_out,)

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)                 # {name: (P, d_out, ...)}
    return torch.cat([j.reshape(j.shape[0] * j.shape[1], -1) for j in jac.values()], dim=1)


def empirical_ntk(model: nn.Module, x: torch.Tensor, x2: torch.Tensor | None = None
                  ) -> torch.Tensor:
    """K(x_i, x2_j) = grad f(x_i) . grad f(x2_j): (P, Q) for a scalar-output model (x2 = x when
    omitted); with d_out outputs the (P d_out, Q d_out) kernel over (sample, output) pairs."""
    J = param_jacobian(model, x)
    return J @ (J if x2 is None else param_jacobian(model, x2)).T


def kernel_alignment(K: torch.Tensor, y: torch.Tensor) -> float:
    """A = y^T K y / (||K||_F |y|^2) for a (P, P) kernel and targets y (P,): 1 when K = c y y^T."""
    check_tensor("K", K, ndim=2)
    y = check_tensor("y", y).reshape(-1).to(K.dtype)
    if K.shape != (len(y), len(y)):
        raise ValueError(f"K must have shape (len(y), len(y)) = ({len(y)}, {len(y)}), got "
                         f"{tuple(K.shape)}")
    norm, yy = torch.linalg.matrix_norm(K), y @ y
    if norm == 0 or yy == 0:
        raise ValueError(f"alignment is undefined for a zero kernel or zero targets "
                         f"(||K||_F = {float(norm):g}, |y|^2 = {float(yy):g})")
    return float(y @ K @ y / (norm * yy))


def kernel_scale(K: torch.Tensor) -> float:
    """The kernel's Frobenius norm ||K||_F (its scale; it grows in the rich phase)."""
    return float(torch.linalg.matrix_norm(check_tensor("K", K, ndim=2)))


def mode_strengths(M: torch.Tensor, U: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """u_alpha = U_alpha^T M V_alpha: the end-to-end map M (d_out, d_in) on the teacher's singular
    vectors U (d_out, r), V (d_in, r) -> (r,)."""
    check_tensor("M", M, ndim=2)
    check_tensor("U", U, ndim=2)
    check_tensor("V", V, ndim=2)
    if U.shape[0] != M.shape[0] or V.shape[0] != M.shape[1] or U.shape[1] != V.shape[1]:
        raise ValueError(f"need M (d_out, d_in), U (d_out, r), V (d_in, r); got M "
                         f"{tuple(M.shape)}, U {tuple(U.shape)}, V {tuple(V.shape)}")
    return ((U.to(M.dtype).T @ M) * V.to(M.dtype).T).sum(1)
