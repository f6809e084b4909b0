"""The logistic in log-x, A(x) = floor + (ceil - floor) / (1 + exp(-k (log x - log x_c))),
fitted by multi-start least squares, with bootstrap intervals and a linear baseline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from ._validate import as_1d_array, check_float, check_int, check_same_length

PARAMS = ("floor", "ceil", "threshold", "steepness")
MAX_STEEPNESS = 100.0  # per unit of ln x: a step function, for any data we can resolve


def logistic(x: np.ndarray | float, floor: float, ceil: float, threshold: float,
             steepness: float) -> np.ndarray:
    """The logistic in log-x: ``threshold`` is x_c (where A is halfway), ``steepness`` is k."""
    x = np.asarray(x, dtype=float)
    z = np.clip(-steepness * (np.log(x) - np.log(threshold)), -60, 60)
    return floor + (ceil - floor) / (1.0 + np.exp(z))


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (1 is perfect, 0 is the mean)."""
    total = float(((y - y.mean()) ** 2).sum())
    residual = float(((y - predicted) ** 2).sum())
    return 1.0 - residual / total if total > 0 else float("nan")


@dataclass(frozen=True)
class LinearFit:
    """y = intercept + slope * ln x."""

    slope: float
    intercept: float
    r2: float

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        return self.intercept + self.slope * np.log(np.asarray(x, dtype=float))


@dataclass(frozen=True)
class LogisticFit:
    """Fitted logistic parameters with bootstrap intervals, R^2 and the linear baseline's R^2."""

    floor: float
    ceil: float
    threshold: float
    steepness: float
    r2: float
    linear: LinearFit
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_boot: int = 0
    confidence: float = 0.95
    fixed: tuple[str, ...] = ()       # parameters given, not fitted (floor and/or ceil)
    # (n_draws, 4) bootstrap refits (floor, ceil, threshold, steepness); same seed, n_boot and x
    # give the same resamples, so two fits' draws pair up (see steepness_ratio)
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        return logistic(x, self.floor, self.ceil, self.threshold, self.steepness)

    @property
    def beats_linear(self) -> bool:
        """True when the logistic explains more variance than a straight line in log-x."""
        return self.r2 > self.linear.r2

    def summary(self) -> str:
        """One line per parameter with its interval (or "fixed"), then R^2 of both fits."""
        lines = []
        for name in PARAMS:
            value = getattr(self, name)
            if name in self.fixed:
                lines.append(f"{name:>10} = {value:10.4g}   (fixed, not fitted)")
                continue
            lo, hi = self.intervals.get(name, (float("nan"), float("nan")))
            lines.append(f"{name:>10} = {value:10.4g}   "
                         f"[{lo:.4g}, {hi:.4g}] ({self.confidence:.0%} bootstrap, n={self.n_boot})")
        lines.append(f"{'R^2':>10} = {self.r2:.4f} (logistic)  vs  {self.linear.r2:.4f} "
                     f"(linear in log x)")
        return "\n".join(lines)


def fit_linear(x: object, y: object) -> LinearFit:
    """Least-squares line in ln x."""
    x = as_1d_array("x", x, min_len=2, positive=True)
    y = as_1d_array("y", y, min_len=2)
    check_same_length(x=x, y=y)
    if len(np.unique(x)) < 2:
        raise ValueError("x must have at least 2 distinct values for a line")
    slope, intercept = np.polyfit(np.log(x), y, 1)
    return LinearFit(float(slope), float(intercept),
                     r_squared(y, intercept + slope * np.log(x)))


def _fit_once(logx: np.ndarray, y: np.ndarray, floor: float | None, ceil: float | None,
              starts: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Best (floor, ceil, log x_c, k) over several starts, and its sum of squared residuals."""
    span = max(float(np.ptp(y)), 1e-6)
    lx_lo, lx_hi = logx.min() - np.ptp(logx), logx.max() + np.ptp(logx)
    free = [floor is None, ceil is None, True, True]
    lower = np.array([y.min() - span, y.min() - span, lx_lo, 1e-3])[free]
    upper = np.array([y.max() + span, y.max() + span, lx_hi, MAX_STEEPNESS])[free]

    def full(theta: np.ndarray) -> np.ndarray:
        it = iter(theta)
        return np.array([next(it) if f else fixed for f, fixed in
                         zip(free, (floor, ceil, None, None), strict=True)], dtype=float)

    def sigmoid(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f, c, lxc, k = full(theta)
        return 1.0 / (1.0 + np.exp(np.clip(-k * (logx - lxc), -60, 60))), np.array([f, c, lxc, k])

    def residuals(theta: np.ndarray) -> np.ndarray:
        sig, (f, c, _, _) = sigmoid(theta)
        return f + (c - f) * sig - y

    def jacobian(theta: np.ndarray) -> np.ndarray:
        sig, (f, c, lxc, k) = sigmoid(theta)
        slope = (c - f) * sig * (1 - sig)                  # dA/dz with z = k (log x - log x_c)
        columns = [1 - sig, sig, -k * slope, (logx - lxc) * slope]
        return np.stack([col for col, keep in zip(columns, free, strict=True) if keep], axis=1)

    best, best_cost = None, np.inf
    for start in starts:
        theta0 = np.clip(start[free], lower + 1e-9, upper - 1e-9)
        result = least_squares(residuals, theta0, jac=jacobian, bounds=(lower, upper),
                               method="trf")
        if result.cost < best_cost:
            best, best_cost = full(result.x), result.cost
    return best, 2.0 * best_cost


def _starts(logx: np.ndarray, y: np.ndarray, floor: float | None,
            ceil: float | None) -> list[np.ndarray]:
    f0 = y.min() if floor is None else floor
    c0 = y.max() if ceil is None else ceil
    centres = np.quantile(logx, [0.25, 0.5, 0.75])
    return [np.array([f0, c0, lc, k]) for lc in centres for k in (1.0, 4.0, 16.0)]


def fit_logistic(x: object, y: object, *, floor: float | None = None, ceil: float | None = None,
                 n_boot: int = 200, confidence: float = 0.95, seed: int = 0) -> LogisticFit:
    """Fit the logistic in log-x to points (x, y); ``floor``/``ceil`` fixed if given.

    x > 0 (e.g. parameters, steps, FLOPs); y finite (e.g. accuracies). Bootstrap over points
    gives ``intervals`` for each parameter; ``linear`` is a straight line in ln x for comparison.
    """
    x = as_1d_array("x", x, positive=True)
    y = as_1d_array("y", y)
    check_same_length(x=x, y=y)
    n_free = 2 + (floor is None) + (ceil is None)
    if len(x) <= n_free:
        raise ValueError(f"a logistic with {n_free} free parameters needs more than {n_free} "
                         f"points (x, y), got {len(x)}")
    if len(np.unique(x)) < 3:
        raise ValueError(f"x must have at least 3 distinct values, got {np.unique(x).tolist()}")
    if floor is not None:
        floor = check_float("floor", floor)
    if ceil is not None:
        ceil = check_float("ceil", ceil)
    n_boot = check_int("n_boot", n_boot, minimum=0)
    confidence = check_float("confidence", confidence, minimum=0.0, maximum=1.0,
                             strict_min=True, strict_max=True)
    seed = check_int("seed", seed, minimum=0)

    logx = np.log(x)
    theta, _ = _fit_once(logx, y, floor, ceil, _starts(logx, y, floor, ceil))
    f, c, lxc, k = theta
    r2 = r_squared(y, logistic(x, f, c, np.exp(lxc), k))

    intervals: dict[str, tuple[float, float]] = {}
    draws_array = None
    if n_boot:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(x), len(x))
            if len(np.unique(logx[idx])) < 3:
                continue
            starts = [theta, _starts(logx[idx], y[idx], floor, ceil)[4]]
            draws.append(_fit_once(logx[idx], y[idx], floor, ceil, starts)[0])
        if draws:
            draws_array = np.array(draws)
            draws_array[:, 2] = np.exp(draws_array[:, 2])
            q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
            for i, name in enumerate(PARAMS):
                lo, hi = np.percentile(draws_array[:, i], q)
                intervals[name] = (float(lo), float(hi))
    fixed = tuple(name for name, given in (("floor", floor), ("ceil", ceil)) if given is not None)
    return LogisticFit(float(f), float(c), float(np.exp(lxc)), float(k), r2,
                       fit_linear(x, y), intervals, n_boot, confidence, fixed, draws_array)


@dataclass(frozen=True)
class SteepnessRatio:
    """k(a) / k(b) with a paired-bootstrap interval, and the share of refits where a is steeper."""

    ratio: float
    interval: tuple[float, float]
    share_steeper: float            # share of paired refits with k(a) > k(b)
    n_draws: int
    confidence: float

    def summary(self) -> str:
        lo, hi = self.interval
        return (f"steepness ratio {self.ratio:.3g}, {self.confidence:.0%} paired bootstrap "
                f"[{lo:.3g}, {hi:.3g}]; steeper in {self.share_steeper:.0%} of {self.n_draws} "
                "paired refits")


def steepness_ratio(a: LogisticFit, b: LogisticFit) -> SteepnessRatio:
    """How many times steeper fit ``a`` is than fit ``b``, with a paired-bootstrap interval.

    Both fits must come from ``fit_logistic`` on the same x with the same ``n_boot`` and
    ``seed`` (e.g. two metrics of one model family), so their bootstrap draws resample the same
    points and pair up one to one.
    """
    for name, f in (("a", a), ("b", b)):
        if not isinstance(f, LogisticFit):
            raise TypeError(f"{name} must be a LogisticFit, got {type(f).__name__}")
        if f.draws is None or not len(f.draws):
            raise ValueError(f"{name} has no bootstrap draws: fit it with n_boot > 0")
    if len(a.draws) != len(b.draws) or a.n_boot != b.n_boot:
        raise ValueError(f"a and b must be fitted on the same x with the same n_boot and seed; "
                         f"got {len(a.draws)} and {len(b.draws)} draws (n_boot {a.n_boot} and "
                         f"{b.n_boot})")
    ratios = a.draws[:, 3] / b.draws[:, 3]
    q = [(1 - a.confidence) / 2 * 100, (1 + a.confidence) / 2 * 100]
    lo, hi = np.percentile(ratios, q)
    return SteepnessRatio(a.steepness / b.steepness, (float(lo), float(hi)),
                          float(np.mean(ratios > 1.0)), len(ratios), a.confidence)


def leave_one_out_r2(x: object, y: object, *, groups: object | None = None,
                     floor: float | None = None, ceil: float | None = None) -> float:
    """R² of held-out predictions of the logistic in log x: each group of points (default:
    each point alone; e.g. a configuration with all its seeds) is predicted by a fit to the
    others (floor, ceil fixed if given). <= 0: no better than the mean; NaN when a fit to the
    remaining points is impossible (e.g. fewer than 3 distinct x values left)."""
    x = as_1d_array("x", x, positive=True)
    y = as_1d_array("y", y)
    check_same_length(x=x, y=y)
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    if groups.shape != x.shape:
        raise ValueError(f"groups must give one group per point ({len(x)}), got shape "
                         f"{groups.shape}")
    predicted = np.empty_like(y)
    for g in np.unique(groups):
        out = groups == g
        try:
            fitted = fit_logistic(x[~out], y[~out], floor=floor, ceil=ceil, n_boot=0)
        except ValueError:
            return float("nan")
        predicted[out] = fitted.predict(x[out])
    return r_squared(y, predicted)
